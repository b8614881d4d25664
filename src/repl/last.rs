//! `_` is the value of the last input, as in Python's and Julia's REPLs. Rhai does not
//! allow `_` as a variable name, so the session keeps the value as `_last` and rewrites a
//! lone `_` in the input to it before compiling (columns after it in an error message are
//! then 4 further right).

/// The variable that holds the last non-`()` value.
pub const NAME: &str = "_last";

/// `input` with every `_` that stands alone as an expression replaced by [`NAME`]; strings,
/// comments, identifiers (`_x`, `a_b`), numbers (`1_000`) and switch's `_ =>` are kept.
pub fn substitute(input: &str) -> String {
    let chars: Vec<char> = input.chars().collect();
    let word = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '`' | '\'' => {
                // Copy the literal through its closing quote.
                out.push(c);
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        out.push(chars[i + 1]);
                        i += 1;
                    } else if chars[i] == c {
                        break;
                    }
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                out.push_str("/*");
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    out.push_str("*/");
                    i += 1;
                }
            }
            '_' if !word(i.checked_sub(1).and_then(|k| chars.get(k)))
                && !word(chars.get(i + 1))
                && !starts_arm(&chars[i + 1..]) =>
            {
                out.push_str(NAME)
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

/// Whether `rest` goes on with `=>` (switch's default arm `_ => …`).
fn starts_arm(rest: &[char]) -> bool {
    let mut next = rest.iter().skip_while(|c| c.is_whitespace());
    next.next() == Some(&'=') && next.next() == Some(&'>')
}

#[cfg(test)]
mod tests {
    use super::substitute;

    #[test]
    fn a_lone_underscore_is_the_last_value() {
        assert_eq!(substitute("_ * 2"), "_last * 2");
        assert_eq!(
            substitute("f(_, _x, a_b, 1_000)"),
            "f(_last, _x, a_b, 1_000)"
        );
        assert_eq!(substitute("print(\"_\"); '_'"), "print(\"_\"); '_'");
        assert_eq!(substitute("x // _\n_"), "x // _\n_last");
        assert_eq!(substitute("/* _ */ _.len()"), "/* _ */ _last.len()");
        assert_eq!(
            substitute("switch x { 1 => _, _ => 0 }"),
            "switch x { 1 => _last, _ => 0 }"
        );
    }
}
