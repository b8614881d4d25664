//! Properties, indexers and operators as a script writes them. Rhai registers them as
//! functions named `get$h`, `index$get$`, `==`; the documentation shows `Curve.h -> NdArray`,
//! `NdArray[i: int] -> NdArray` and `NdArray == NdArray -> bool`.

use super::Kind;

/// One parameter as the metadata gives it: name and Rust type, either may be missing.
pub struct Param<'a> {
    pub name: &'a str,
    pub ty: String,
}

/// What kind of member a registered name is, how a script writes it (`Curve.h`), and its
/// signature in script words; `None` for a plain function.
pub fn describe(name: &str, params: &[Param], returns: &str) -> Option<(Kind, String, String)> {
    let ty = |i: usize| params.get(i).map_or("any", |p| p.ty.as_str());
    let arg = |i: usize| {
        params
            .get(i)
            .map_or("_".to_string(), |p| format!("{}: {}", p.name, p.ty))
    };
    let ret = if returns.is_empty() || returns == "()" {
        String::new()
    } else {
        format!(" -> {returns}")
    };
    if let Some(prop) = name.strip_prefix("get$") {
        let written = format!("{}.{prop}", ty(0));
        return Some((Kind::Property, written.clone(), format!("{written}{ret}")));
    }
    if let Some(prop) = name.strip_prefix("set$") {
        let written = format!("{}.{prop}", ty(0));
        return Some((
            Kind::Property,
            written.clone(),
            format!("{written} = {}", arg(1)),
        ));
    }
    if name == "index$get$" {
        let written = format!("{}[]", ty(0));
        return Some((
            Kind::Indexer,
            written,
            format!("{}[{}]{ret}", ty(0), arg(1)),
        ));
    }
    if name == "index$set$" {
        let written = format!("{}[]", ty(0));
        let sig = format!("{}[{}] = {}", ty(0), arg(1), arg(2));
        return Some((Kind::Indexer, written, sig));
    }
    if is_operator(name) {
        let sig = match params.len() {
            1 => format!("{name}{}{ret}", ty(0)),
            _ => format!("{} {name} {}{ret}", ty(0), ty(1)),
        };
        return Some((Kind::Operator, name.to_string(), sig));
    }
    None
}

/// `+`, `==`, `+=`, `!`: names made of symbols only.
pub fn is_operator(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| "+-*/%=!<>&|^~".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &'static str, ty: &str) -> Param<'static> {
        Param {
            name,
            ty: ty.into(),
        }
    }

    #[test]
    fn members_are_written_as_scripts_use_them() {
        let (kind, name, sig) = describe("get$h", &[p("c", "Curve")], "NdArray").unwrap();
        assert_eq!(
            (kind, name.as_str(), sig.as_str()),
            (Kind::Property, "Curve.h", "Curve.h -> NdArray")
        );
        let (kind, name, sig) =
            describe("index$get$", &[p("a", "NdArray"), p("i", "int")], "NdArray").unwrap();
        assert_eq!(
            (kind, name.as_str(), sig.as_str()),
            (Kind::Indexer, "NdArray[]", "NdArray[i: int] -> NdArray")
        );
        let (kind, name, sig) =
            describe("==", &[p("a", "NdArray"), p("b", "NdArray")], "bool").unwrap();
        assert_eq!(
            (kind, name.as_str(), sig.as_str()),
            (Kind::Operator, "==", "NdArray == NdArray -> bool")
        );
        let (_, _, sig) = describe("-", &[p("a", "NdArray")], "NdArray").unwrap();
        assert_eq!(sig, "-NdArray -> NdArray");
        assert!(describe("linspace", &[p("a", "float")], "NdArray").is_none());
    }
}
