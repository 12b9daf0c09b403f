//! Strict reading of request bodies into typed structs, as PeerTube's validators read them.
//!
//! serde's derived structs are lenient in two ways PeerTube is not: they take a JSON array where
//! an object is expected (its elements filling the fields in order), and an `Option` field takes
//! `null` as if it were absent. PeerTube refuses both: a body and every nested object must be an
//! object, and `null` is accepted only where a field may be cleared (those fields read it with
//! `nullable`). No crate offers a deserializer with these rules, so this one wraps a
//! `serde_json::Value` and hands every nested value on wrapped again; what it does not refuse it
//! passes to `Value`'s own deserializer.
//!
//! The same wrapper reads form bodies (`application/x-www-form-urlencoded`, and multipart text
//! fields): their values are text, so where the target wants a number or a boolean a string is
//! parsed, as PeerTube's sanitizers (`toInt`, `toBoolean`) do.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Unexpected, Visitor,
};
use serde_json::{Map, Value};

/// Where a value came from: JSON keeps its types; a form's values are all text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Json,
    Form,
}

/// A field of the body that was refused, and why.
#[derive(Debug)]
pub struct Refusal {
    /// The field's path (`instance.name`, `tags[2]`), empty for the body itself.
    pub path: String,
    pub message: String,
}

/// For optional fields where PeerTube accepts `null` and does nothing with it: `null` reads as
/// absent.
pub fn null_as_absent<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    nullable(d).map(Option::flatten)
}

/// For fields where PeerTube takes `null` as "none": `null` reads as the type's empty value.
pub fn null_as_default<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    nullable(d).map(|v| v.map(Option::unwrap_or_default))
}

/// Deserialize `T` from a body's value under PeerTube's rules.
pub fn from_value<T: DeserializeOwned>(value: Value, origin: Origin) -> Result<T, Refusal> {
    serde_path_to_error::deserialize(Strict { value, origin }).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let message = e.into_inner().to_string();
        // serde reports a missing field at the object that lacks it; PeerTube names the field.
        match missing_field(&message) {
            Some(field) if path.is_empty() => Refusal {
                path: field.to_owned(),
                message: format!("{field} is required"),
            },
            Some(field) => Refusal {
                path: format!("{path}.{field}"),
                message: format!("{field} is required"),
            },
            None => Refusal { path, message },
        }
    })
}

/// The field serde's "missing field `name`" message names.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")?
        .split('`')
        .next()
        .filter(|f| !f.is_empty())
}

/// For `Option<Option<T>>` fields that may be cleared: absent → `None` (with `#[serde(default)]`),
/// `null` → `Some(None)`, a value → `Some(Some(v))`, read with the same strict rules.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    // `deserialize_any` passes `null` through as a unit, which `Value` keeps as `Null`.
    let value = <Value as serde::Deserialize>::deserialize(d)?;
    if value.is_null() {
        return Ok(Some(None));
    }
    // Multipart and form fields arrive as text; JSON keeps its types. A string where a number
    // is wanted is read as form text, which JSON never sends for such a field anyway.
    let origin = if value.is_string() {
        Origin::Form
    } else {
        Origin::Json
    };
    from_value(value, origin)
        .map(|v| Some(Some(v)))
        .map_err(|r| de::Error::custom(r.message))
}

struct Strict {
    value: Value,
    origin: Origin,
}

fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => match n.as_f64() {
            Some(f) => Unexpected::Float(f),
            None => Unexpected::Other("number"),
        },
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
    }
}

impl Strict {
    /// A form's text for a number or a boolean, parsed; anything else unchanged.
    fn form_scalar<T: std::str::FromStr>(&self) -> Option<T> {
        match (&self.value, self.origin) {
            (Value::String(s), Origin::Form) => s.trim().parse().ok(),
            _ => None,
        }
    }

    fn form_bool(&self) -> Option<bool> {
        match (&self.value, self.origin) {
            (Value::String(s), Origin::Form) => match s.as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Forward a scalar request to `Value`'s deserializer, first parsing a form's text when the
/// target is a number.
macro_rules! scalar {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            if let Some(n) = self.form_scalar::<$ty>() {
                return visitor.$visit(n);
            }
            self.value.$method(visitor)
        }
    )*};
}

/// Forward requests whose strictness `Value` already has (strings, bytes, enums) unchanged.
macro_rules! forward {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            self.value.$method(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.into_iter(),
                origin: self.origin,
            }),
            Value::Object(map) => visitor.visit_map(Fields::new(map, self.origin)),
            other => other.deserialize_any(visitor),
        }
    }

    scalar! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
        deserialize_f32 => f32, visit_f32;
        deserialize_f64 => f64, visit_f64;
    }

    forward! {
        deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier deserialize_ignored_any
        deserialize_i128 deserialize_u128
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if let Some(b) = self.form_bool() {
            return visitor.visit_bool(b);
        }
        self.value.deserialize_bool(visitor)
    }

    /// `null` is refused: a field that may be cleared reads itself with `nullable`, and a field
    /// that is merely optional is left out.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.value.is_null() {
            return Err(de::Error::invalid_type(
                Unexpected::Unit,
                &"a value (leave the field out instead of sending null)",
            ));
        }
        visitor.visit_some(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Array(items) => visitor.visit_seq(Seq {
                items: items.into_iter(),
                origin: self.origin,
            }),
            // A form field sent once is one value; PeerTube's arrays take it as a list of one.
            Value::String(_) if self.origin == Origin::Form => visitor.visit_seq(Seq {
                items: vec![self.value].into_iter(),
                origin: self.origin,
            }),
            other => Err(de::Error::invalid_type(unexpected(&other), &"an array")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.value {
            Value::Object(map) => visitor.visit_map(Fields::new(map, self.origin)),
            other => Err(de::Error::invalid_type(unexpected(&other), &"an object")),
        }
    }

    /// The one place an array is refused where an object is expected.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.value.deserialize_enum(name, variants, visitor)
    }
}

impl<'de> IntoDeserializer<'de, serde_json::Error> for Strict {
    type Deserializer = Strict;
    fn into_deserializer(self) -> Strict {
        self
    }
}

struct Seq {
    items: std::vec::IntoIter<Value>,
    origin: Origin,
}

impl<'de> SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        match self.items.next() {
            Some(value) => seed
                .deserialize(Strict {
                    value,
                    origin: self.origin,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Fields {
    entries: serde_json::map::IntoIter,
    pending: Option<Value>,
    origin: Origin,
}

impl Fields {
    fn new(map: Map<String, Value>, origin: Origin) -> Self {
        Fields {
            entries: map.into_iter(),
            pending: None,
            origin,
        }
    }
}

impl<'de> MapAccess<'de> for Fields {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        match self.entries.next() {
            Some((key, value)) => {
                self.pending = Some(value);
                seed.deserialize(Value::String(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        let value = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("a value was asked for before its key"))?;
        seed.deserialize(Strict {
            value,
            origin: self.origin,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A form body's pairs as the object PeerTube's `qs` parser makes of them: `a[b]=x` nests,
/// `a[]=x` and a repeated `a` make arrays, `a[0]=x` is an array's element. Written by hand because
/// the crates that parse nested query strings into typed structs (serde_qs) cannot first give
/// the untyped object this module's strict reading needs.
pub fn form_object(pairs: Vec<(String, String)>) -> Result<Value, Refusal> {
    let mut root = Map::new();
    for (key, text) in pairs {
        let path = key_path(&key).ok_or_else(|| Refusal {
            path: key.clone(),
            message: "This form field's name is not valid".into(),
        })?;
        insert(&mut root, &path, Value::String(text)).map_err(|message| Refusal {
            path: key.clone(),
            message,
        })?;
    }
    Ok(Value::Object(root))
}

/// Most levels of `[…]` a form field's name may nest (PeerTube's `qs` allows five).
const MAX_FORM_DEPTH: usize = 5;

/// `a[b][]` → `["a", "b", ""]`; `None` for a name that is not of that shape.
fn key_path(key: &str) -> Option<Vec<&str>> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => key.split_at(i),
        None => (key, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut path = vec![head];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let end = inner.find(']')?;
        path.push(&inner[..end]);
        rest = &inner[end + 1..];
        if path.len() > MAX_FORM_DEPTH + 1 {
            return None;
        }
    }
    Some(path)
}

fn insert(map: &mut Map<String, Value>, path: &[&str], value: Value) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Ok(());
    };
    let key = (*first).to_owned();
    match rest.split_first() {
        // The last name: a repeated plain name becomes an array, as `qs` does.
        None => {
            match map.get_mut(&key) {
                None => {
                    map.insert(key, value);
                }
                Some(Value::Array(items)) => items.push(value),
                Some(Value::String(_)) => {
                    if let Some(old) = map.remove(&key) {
                        map.insert(key, Value::Array(vec![old, value]));
                    }
                }
                Some(_) => {
                    return Err("This field is given both as a value and as an object".into());
                }
            }
            Ok(())
        }
        // `a[]` or `a[3]`: an element of the array `a`.
        Some((index, tail)) if index.is_empty() || index.parse::<usize>().is_ok() => {
            if !tail.is_empty() {
                return Err("Objects inside form arrays are not supported".into());
            }
            let entry = map.entry(key).or_insert_with(|| Value::Array(Vec::new()));
            match entry {
                Value::Array(items) => items.push(value),
                Value::String(_) => {
                    let old = std::mem::take(entry);
                    *entry = Value::Array(vec![old, value]);
                }
                _ => return Err("This field is given both as an array and as an object".into()),
            }
            Ok(())
        }
        // `a[b]…`: a field of the object `a`.
        Some(_) => {
            let entry = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
            match entry {
                Value::Object(inner) => insert(inner, rest, value),
                _ => Err("This field is given both as a value and as an object".into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Inner {
        name: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        username: Option<String>,
        quota: Option<i64>,
        admin: Option<bool>,
        #[serde(default)]
        tags: Vec<String>,
        instance: Option<Inner>,
        #[serde(default, deserialize_with = "nullable")]
        support: Option<Option<String>>,
    }

    fn json_body(v: Value) -> Result<Body, Refusal> {
        from_value(v, Origin::Json)
    }

    #[test]
    fn objects_are_read_and_arrays_refused_at_every_level() {
        let ok =
            json_body(json!({"username": "a", "quota": 5, "instance": {"name": "x"}})).unwrap();
        assert_eq!(ok.quota, Some(5));
        assert_eq!(
            ok.instance,
            Some(Inner {
                name: Some("x".into())
            })
        );
        let top = json_body(json!(["a", 5])).unwrap_err();
        assert_eq!(top.path, "");
        assert!(top.message.contains("an object"), "{}", top.message);
        let nested = json_body(json!({"instance": ["Renamed"]})).unwrap_err();
        assert_eq!(nested.path, "instance");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Needs {
            name: String,
        }
        let missing = from_value::<Needs>(json!({}), Origin::Json).unwrap_err();
        assert_eq!(missing.path, "name");
        assert_eq!(missing.message, "name is required");
        assert!(json_body(json!(null)).is_err());
        assert!(json_body(json!("text")).is_err());
    }

    #[test]
    fn null_is_refused_unless_the_field_may_be_cleared() {
        let refused = json_body(json!({"quota": null})).unwrap_err();
        assert_eq!(refused.path, "quota");
        let cleared = json_body(json!({"support": null})).unwrap();
        assert_eq!(cleared.support, Some(None));
        let set = json_body(json!({"support": "s"})).unwrap();
        assert_eq!(set.support, Some(Some("s".into())));
        assert_eq!(json_body(json!({})).unwrap().support, None);
    }

    #[test]
    fn json_keeps_its_types_and_forms_are_parsed() {
        assert!(json_body(json!({"quota": "5"})).is_err());
        assert!(json_body(json!({"admin": "true"})).is_err());
        let form = form_object(vec![
            ("quota".into(), "5".into()),
            ("admin".into(), "true".into()),
            ("tags[]".into(), "a".into()),
            ("tags[]".into(), "b".into()),
            ("instance[name]".into(), "x".into()),
        ])
        .unwrap();
        let body: Body = from_value(form, Origin::Form).unwrap();
        assert_eq!(body.quota, Some(5));
        assert_eq!(body.admin, Some(true));
        assert_eq!(body.tags, ["a", "b"]);
        assert_eq!(
            body.instance,
            Some(Inner {
                name: Some("x".into())
            })
        );
        let one: Body = from_value(
            form_object(vec![("tags".into(), "solo".into())]).unwrap(),
            Origin::Form,
        )
        .unwrap();
        assert_eq!(one.tags, ["solo"]);
        let bad = from_value::<Body>(
            form_object(vec![("quota".into(), "five".into())]).unwrap(),
            Origin::Form,
        )
        .unwrap_err();
        assert_eq!(bad.path, "quota");
    }

    #[test]
    fn form_names_nest_like_qs_and_refuse_nonsense() {
        let v = form_object(vec![
            ("a".into(), "1".into()),
            ("a".into(), "2".into()),
            ("b[c][d]".into(), "3".into()),
            ("e[0]".into(), "4".into()),
        ])
        .unwrap();
        assert_eq!(
            v,
            json!({"a": ["1", "2"], "b": {"c": {"d": "3"}}, "e": ["4"]})
        );
        assert!(form_object(vec![("[x]".into(), "1".into())]).is_err());
        assert!(form_object(vec![("a[b".into(), "1".into())]).is_err());
        assert!(form_object(vec![("a[b][c][d][e][f][g]".into(), "1".into())]).is_err());
        assert!(form_object(vec![("a".into(), "1".into()), ("a[b]".into(), "2".into())]).is_err());
    }
}
