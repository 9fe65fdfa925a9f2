//! Query strings: [`ApiQuery<T>`] reads the query into a struct whose
//! fields are the parameters its endpoint takes. The same struct derives
//! `utoipa::IntoParams`, so the OpenAPI document, the parsing and the error
//! messages come from one definition of each parameter.
//!
//! The query is read by a small serde deserializer of its own, not by
//! `serde_urlencoded`: it refuses a name the struct does not have or one
//! given twice (before serde sees the values, and naming both), it parses
//! numbers and booleans from their text, it names the parameter in every
//! error, and it ignores `token` (read by authentication).

use std::borrow::Cow;
use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::value::StrDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::forward_to_deserialize_any;

use crate::error::ApiError;

/// The query parameters of a request, read into `T`: a struct of the
/// parameters the endpoint takes, or `()` for an endpoint that takes none
/// (but `token`). An unknown or repeated parameter, a missing required one
/// and a value of the wrong form are `400 invalid_request`, naming the
/// parameter. `token` is always accepted, and ignored here.
///
/// `T` must be a plain struct: `#[serde(flatten)]` cannot work here (it
/// hides the field names); lists share their paging parameters through
/// [`list_query!`](crate::extract::list_query) instead.
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query()).map(Self)
    }
}

/// An endpoint that takes no query parameter but `token`.
pub(crate) type NoQuery = ApiQuery<()>;

/// Reads a raw query string (without the `?`) into `T`; see [`ApiQuery`].
pub(crate) fn parse_query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    let pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> =
        form_urlencoded::parse(raw.unwrap_or("").as_bytes()).filter(|(name, _)| name != "token").collect();
    T::deserialize(Params(&pairs)).map_err(|Error(message)| ApiError::invalid_request(message))
}

/// Declares the query struct of a list endpoint: its own parameters, then
/// `page_size` and `page_token`, the paging parameters of every list,
/// defined here once. The struct derives `Deserialize` (for [`ApiQuery`])
/// and `IntoParams` (for `params(...)` of `#[utoipa::path]`); doc comments
/// on the fields are the parameters' descriptions.
macro_rules! list_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub(crate) struct $name {
            $($(#[$field_meta])* pub(crate) $field: $ty,)*
            /// 1–100, default 50.
            pub(crate) page_size: Option<u32>,
            /// `next_page_token` of the previous page.
            pub(crate) page_token: Option<String>,
        }

        impl $name {
            /// The page asked for (the Hub checks the size's range and the token).
            pub(crate) fn page(&self) -> talk_core::PageRequest {
                talk_core::PageRequest { size: self.page_size, token: self.page_token.clone() }
            }
        }
    };
}

pub(crate) use list_query;

list_query!(
    /// The query of a list that takes only the paging parameters.
    PageQuery {}
);

// ------------------------------------------------------------ deserializer

/// A refusal, with a message that names the parameter.
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Self(format!("{field} is required"))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self(format!("expected one of {}, not {}", expected.join(", "), shown(variant)))
    }
}

/// A value quoted in a message, shortened: an error never echoes a huge value.
fn shown(value: &str) -> String {
    const MAX: usize = 64;
    match value.char_indices().nth(MAX) {
        None => format!("{value:?}"),
        Some((end, _)) => format!("{:?}…", &value[..end]),
    }
}

type Pairs<'a> = [(Cow<'a, str>, Cow<'a, str>)];

/// The parameters of a query, as a map of names to values.
struct Params<'a>(&'a Pairs<'a>);

impl Params<'_> {
    /// Refuses a name that is not one of `fields`, or a repeated one.
    fn check(&self, fields: &[&str]) -> Result<(), Error> {
        for (i, (name, _)) in self.0.iter().enumerate() {
            if !fields.contains(&name.as_ref()) {
                let expected = if fields.is_empty() {
                    "this endpoint takes none but token".to_owned()
                } else {
                    format!("expected one of {}", fields.join(", "))
                };
                return Err(Error(format!("unknown query parameter {}: {expected}", shown(name))));
            }
            if self.0[..i].iter().any(|(seen, _)| seen == name) {
                return Err(Error(format!("query parameter {name} is given more than once")));
            }
        }
        Ok(())
    }
}

impl<'de> de::Deserializer<'de> for Params<'de> {
    type Error = Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.check(fields)?;
        visitor.visit_map(Entries { pairs: self.0.iter(), value: None })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.check(&[])?;
        visitor.visit_unit()
    }

    /// Anything but a plain struct or `()` is a mistake of this crate (a
    /// flattened struct would come here).
    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
        Err(Error("this endpoint's query parameters are not a plain struct".to_owned()))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The entries of a query, for a struct's visitor.
struct Entries<'de> {
    pairs: std::slice::Iter<'de, (Cow<'de, str>, Cow<'de, str>)>,
    value: Option<(&'de str, &'de str)>,
}

impl<'de> MapAccess<'de> for Entries<'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((name, value)) = self.pairs.next() else { return Ok(None) };
        self.value = Some((name.as_ref(), value.as_ref()));
        seed.deserialize(StrDeserializer::<Error>::new(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (name, value) = self.value.take().ok_or_else(|| Error("a value without a name".to_owned()))?;
        seed.deserialize(Text(value)).map_err(|Error(message)| Error(format!("{name}: {message}")))
    }
}

/// One parameter's value: text, read as the field's type asks.
struct Text<'de>(&'de str);

impl Text<'_> {
    fn number<N: std::str::FromStr>(&self, what: &str) -> Result<N, Error> {
        self.0.parse().map_err(|_| Error(format!("expected {what}, not {}", shown(self.0))))
    }
}

/// `deserialize_<number>` methods that parse the text.
macro_rules! numbers {
    ($($method:ident => $visit:ident: $what:literal),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.number($what)?)
        })*
    };
}

impl<'de> de::Deserializer<'de> for Text<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0 {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(Error(format!("expected true or false, not {}", shown(other)))),
        }
    }

    numbers! {
        deserialize_u8 => visit_u8: "a whole number",
        deserialize_u16 => visit_u16: "a whole number",
        deserialize_u32 => visit_u32: "a whole number",
        deserialize_u64 => visit_u64: "a whole number",
        deserialize_i8 => visit_i8: "a whole number",
        deserialize_i16 => visit_i16: "a whole number",
        deserialize_i32 => visit_i32: "a whole number",
        deserialize_i64 => visit_i64: "a whole number",
        deserialize_f32 => visit_f32: "a number",
        deserialize_f64 => visit_f64: "a number",
    }

    /// A parameter that is given has a value, even an empty one.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A unit variant, by its name.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use talk_core::TalkStatus;

    use super::*;

    list_query!(
        /// A list with a filter.
        Filtered {
            /// A status.
            #[param(value_type = Option<String>)]
            status: Option<TalkStatus>,
            /// A flag.
            replies: Option<bool>,
        }
    );

    #[derive(Debug, Deserialize)]
    struct Since {
        since: u64,
    }

    #[test]
    fn a_required_parameter_is_read() {
        let query: Since = parse_query(Some("since=42")).unwrap();
        assert_eq!(query.since, 42);
    }

    fn refusal<T: DeserializeOwned + fmt::Debug>(raw: &str) -> String {
        let error = parse_query::<T>(Some(raw)).expect_err("refused");
        assert_eq!(error.code(), "invalid_request");
        error.message().to_owned()
    }

    #[test]
    fn parameters_are_read_into_their_types_and_token_is_ignored() {
        let query: Filtered = parse_query(Some("token=x&status=closed&page_size=3&replies=true&token=y")).unwrap();
        assert_eq!((query.status, query.replies, query.page_size), (Some(TalkStatus::Closed), Some(true), Some(3)));
        assert_eq!(query.page().token, None);
        let query: Filtered = parse_query(None).unwrap();
        assert_eq!((query.status, query.page_size), (None, None));
        let query: Filtered = parse_query(Some("page_token=a%2Bb%3D")).unwrap();
        assert_eq!(query.page().token.as_deref(), Some("a+b="));
        parse_query::<()>(Some("token=x")).unwrap();
    }

    #[test]
    fn refusals_name_the_parameter() {
        assert_eq!(
            refusal::<Filtered>("pagesize=3"),
            r#"unknown query parameter "pagesize": expected one of status, replies, page_size, page_token"#
        );
        assert_eq!(
            refusal::<()>("verbose=1"),
            r#"unknown query parameter "verbose": this endpoint takes none but token"#
        );
        assert_eq!(refusal::<Filtered>("page_size=3&page_size=4"), "query parameter page_size is given more than once");
        assert_eq!(refusal::<Filtered>("page_size=abc"), r#"page_size: expected a whole number, not "abc""#);
        assert_eq!(refusal::<Filtered>("page_size="), r#"page_size: expected a whole number, not """#);
        assert_eq!(refusal::<Filtered>("page_size=-1"), r#"page_size: expected a whole number, not "-1""#);
        assert_eq!(refusal::<Filtered>("status=open"), r#"status: expected one of active, closed, not "open""#);
        assert_eq!(refusal::<Filtered>("replies=yes"), r#"replies: expected true or false, not "yes""#);
        assert_eq!(refusal::<Since>(""), "since is required");
        assert!(refusal::<Since>(&format!("since={}", "9".repeat(500))).len() < 120);
    }
}
