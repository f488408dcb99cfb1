//! Durations as provider files write them (`60d`, `12h`, `30m`, `90s`): grant lifetimes, refresh
//! margins, token lifetimes a reply does not state.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A duration written as `60d`, `7d`, `12h`, `30m` or `90s` in provider files.
#[derive(Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Lifetime {
    /// Length in seconds.
    pub seconds: i64,
}

impl Lifetime {
    /// Parses `<number><unit>` with unit `d`, `h`, `m` or `s`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (digits, unit) = text.split_at(text.len().saturating_sub(1));
        let factor = match unit {
            "d" => 86_400,
            "h" => 3_600,
            "m" => 60,
            "s" => 1,
            _ => {
                return Err(format!("`{text}` is not a duration: write e.g. 60d, 12h, 30m or 90s"));
            }
        };
        let n: i64 = digits.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            format!("`{text}` is not a duration: write a positive whole number before the unit, e.g. 60d")
        })?;
        Ok(Lifetime { seconds: n * factor })
    }
}

impl fmt::Debug for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}s", self.seconds)
    }
}

impl From<Lifetime> for String {
    fn from(l: Lifetime) -> String {
        if l.seconds % 86_400 == 0 { format!("{}d", l.seconds / 86_400) } else { format!("{}s", l.seconds) }
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Lifetime::parse(&s).map_err(serde::de::Error::custom)
    }
}
