// SPDX-License-Identifier: GPL-2.0

//! Just enough JSON to write reports: a value tree and its rendering (no parser; the host reads
//! the reports with Python).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A JSON value. Objects keep their keys in the order they were added.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

/// `s` as a JSON string, quotes included.
pub fn string(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Hands a tool's final report on: to `path` if given, and as one `# json: ` line on stdout,
/// where the host finds it in the guest's KTAP.
pub fn publish(text: &str, path: Option<&str>) -> Result<(), String> {
    if let Some(path) = path {
        std::fs::write(path, format!("{text}\n"))
            .map_err(|e| format!("cannot write {path}: {e}"))?;
    }
    println!("# json: {text}");
    Ok(())
}

impl Json {
    /// An empty object, to be filled with [`Json::with`].
    pub fn obj() -> Json {
        Json::Obj(Vec::new())
    }

    /// Adds `key` to an object (a no-op on anything else).
    pub fn with(mut self, key: &str, value: impl Into<Json>) -> Json {
        if let Json::Obj(fields) = &mut self {
            fields.push((key.to_string(), value.into()));
        }
        self
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        self.render_into(&mut o);
        o
    }

    fn render_into(&self, o: &mut String) {
        match self {
            Json::Null => o.push_str("null"),
            Json::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(o, "{i}");
            }
            // JSON has no NaN or infinity.
            Json::Num(x) if !x.is_finite() => o.push_str("null"),
            Json::Num(x) => {
                let _ = write!(o, "{x}");
            }
            Json::Str(s) => o.push_str(&string(s)),
            Json::Arr(items) => {
                o.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    v.render_into(o);
                }
                o.push(']');
            }
            Json::Obj(fields) => {
                o.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    o.push_str(&string(k));
                    o.push(':');
                    v.render_into(o);
                }
                o.push('}');
            }
        }
    }
}

/// A map as an object, its keys in the map's order.
impl<K: ToString, V: Clone + Into<Json>> From<&BTreeMap<K, V>> for Json {
    fn from(m: &BTreeMap<K, V>) -> Json {
        Json::Obj(
            m.iter()
                .map(|(k, v)| (k.to_string(), v.clone().into()))
                .collect(),
        )
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<i64> for Json {
    fn from(i: i64) -> Json {
        Json::Int(i)
    }
}

impl From<u64> for Json {
    fn from(u: u64) -> Json {
        i64::try_from(u).map_or(Json::Num(u as f64), Json::Int)
    }
}

impl From<usize> for Json {
    fn from(u: usize) -> Json {
        Json::from(u as u64)
    }
}

impl From<f64> for Json {
    fn from(x: f64) -> Json {
        Json::Num(x)
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Json {
        v.map_or(Json::Null, Into::into)
    }
}

impl<T: Into<Json>> From<Vec<T>> for Json {
    fn from(v: Vec<T>) -> Json {
        Json::Arr(v.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_values() {
        let v = Json::obj()
            .with("a", 1u64)
            .with("b", vec![Json::Null, true.into(), 2.5.into()])
            .with("c", Json::obj().with("d", "x\"y\\z\n"))
            .with("e", None::<u64>)
            .with("f", -3i64);
        assert_eq!(
            v.render(),
            r#"{"a":1,"b":[null,true,2.5],"c":{"d":"x\"y\\z\u000a"},"e":null,"f":-3}"#
        );
    }

    #[test]
    fn numbers_stay_json() {
        assert_eq!(Json::from(100.0).render(), "100");
        assert_eq!(Json::from(f64::NAN).render(), "null");
        assert_eq!(Json::from(f64::INFINITY).render(), "null");
        assert_eq!(Json::from(u64::MAX).render(), "18446744073709552000");
        assert_eq!(Json::from(Vec::<u64>::new()).render(), "[]");
    }
}
