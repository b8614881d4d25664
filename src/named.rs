//! Fieldless enums that scripts, files and the command line name: each variant's name is
//! written once, beside the variant, and `ALL`, `NAMES`, `name` and `from_name` follow.

/// `named!(Type { Variant => "name", … })`: `Type::ALL` and `Type::NAMES` in that order,
/// `t.name()`, and `Type::from_name(name)` (`None` for any other name).
macro_rules! named {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every variant, in the order of [`Self::NAMES`].
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];
            /// The names scripts use, in the order of [`Self::ALL`].
            pub const NAMES: [&'static str; [$($name),+].len()] = [$($name),+];

            pub fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            pub fn from_name(name: &str) -> Option<$ty> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }
    };
}
pub(crate) use named;

#[cfg(test)]
mod tests {
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Colour {
        Red,
        Blue,
    }
    super::named!(Colour { Red => "red", Blue => "blue" });

    #[test]
    fn names_and_variants_map_both_ways() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::Blue]);
        assert_eq!(Colour::NAMES, ["red", "blue"]);
        for c in Colour::ALL {
            assert_eq!(Colour::from_name(c.name()), Some(c));
        }
        assert_eq!(Colour::from_name("green"), None);
    }
}
