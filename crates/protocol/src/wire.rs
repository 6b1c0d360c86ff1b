//! [`wire_enum!`]: an enum whose variants travel as text (JSON, the store, metrics labels),
//! declared from one list of `Variant = "wire_name"` pairs. The list is the only place a wire
//! name is written: `ALL`, `as_str`, `from_code` and serde are generated from it, so they can
//! never disagree.

/// Declares a fieldless enum from `Variant = "wire_name"` pairs, with `ALL` (declaration order),
/// `as_str`, `from_code` and `Serialize`/`Deserialize` through the same names.
///
/// ```
/// b24pay_protocol::wire_enum! {
///     /// A colour.
///     pub enum Colour {
///         /// Like the sky.
///         Blue = "blue",
///         Red = "red",
///     }
/// }
/// assert_eq!(Colour::Blue.as_str(), "blue");
/// assert_eq!(Colour::from_code("red"), Some(Colour::Red));
/// assert_eq!(Colour::ALL.len(), 2);
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$($wire),+].len()] = [$($name::$variant),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The variant with this wire name.
            pub fn from_code(code: &str) -> Option<$name> {
                match code {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::__serde::Serialize for $name {
            fn serialize<S: $crate::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl $crate::__serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " name"))
                    }
                    fn visit_str<E: $crate::__serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_code(v)
                            .ok_or_else(|| E::unknown_variant(v, &[$($wire),+]))
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::wire_enum! {
        enum Sample {
            One = "one",
            TwoWords = "two_words",
        }
    }

    #[test]
    fn one_list_drives_every_form() {
        for s in Sample::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Sample>(&json).unwrap(), s);
            assert_eq!(Sample::from_code(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Sample::from_code("three"), None);
        let err = serde_json::from_str::<Sample>("\"three\"").unwrap_err();
        assert!(err.to_string().contains("one"), "{err}");
    }
}
