//! Readers for fields a Flex version may give with another type: a value of
//! the wrong type reads as absent (or default) instead of failing the event.
//!
//! Each tries the type it wants and drops the deserializer's error. That is
//! safe for the deserializers the core is given (serde-wasm-bindgen over a
//! JS value, `&serde_json::Value`): neither is a stream a failed read could
//! leave half-consumed. (Not for `serde_json::from_str`.)

use serde::{Deserialize, Deserializer};

pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(String::deserialize(d).ok())
}

pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d).unwrap_or_default())
}

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(bool::deserialize(d).ok())
}

/// Whole milliseconds (a fraction is dropped), within i64.
pub fn opt_millis<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(f64::deserialize(d)
        .ok()
        .filter(|n| n.is_finite() && n.abs() < 9.2e18)
        .map(|n| n.trunc() as i64))
}

/// An object read as `T`; anything else (null, a string...) is `None`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(d).ok())
}

/// An element of `list`: what is not an object reads as `T::default()`.
struct Element<T>(T);

impl<'de, T: Deserialize<'de> + Default> Deserialize<'de> for Element<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Element<T>, D::Error> {
        Ok(Element(T::deserialize(d).unwrap_or_default()))
    }
}

/// An array of objects read as `T`; anything else is empty.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Vec::<Element<T>>::deserialize(d)
        .map(|items| items.into_iter().map(|Element(t)| t).collect())
        .unwrap_or_default())
}
