//! Input shaping: bracket matching while typing, and telling when an input continues on
//! the next line because a bracket, string or comment is still open.

use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use std::borrow::Cow;

#[derive(Default)]
pub struct Shaper {
    brackets: MatchingBracketHighlighter,
}

/// Whether `text` still has an open bracket, string or block comment.
pub fn is_incomplete(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = text.chars().peekable();
    let mut in_str: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                c if c == q => in_str = None,
                _ => {}
            }
            continue;
        }
        match c {
            '"' | '`' | '\'' => in_str = Some(c),
            '/' if chars.peek() == Some(&'/') => while chars.next().is_some_and(|c| c != '\n') {},
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                let mut closed = false;
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        closed = true;
                        break;
                    }
                    prev = c;
                }
                if !closed {
                    return true;
                }
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    depth > 0 || in_str == Some('`')
}

impl Highlighter for Shaper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        self.brackets.highlight(line, pos)
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        self.brackets.highlight_char(line, pos, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::is_incomplete;

    #[test]
    fn open_brackets_continue_the_input() {
        assert!(is_incomplete("fn f(x) {"));
        assert!(is_incomplete("let a = [1,\n2"));
        assert!(!is_incomplete("let s = \"{\";"));
        assert!(!is_incomplete("f(1) // (open in a comment"));
        assert!(!is_incomplete("x)"));
        assert!(!is_incomplete("let c = '(';"));
    }
}
