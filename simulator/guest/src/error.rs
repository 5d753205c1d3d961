//! The error object every failed call returns: a message and, where known, where in
//! the input the problem is.

use serde_json::{json, Map, Value};
use syscage_core::policy::ResolveError;
use syscage_core::profile::{Diagnostic, Location, ProfileError};

/// An error answer: `{"message": ..., "source"?, "line"?, "column"?, "pointer"?}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    /// The input it is about: a profile's or trace's `source`, or `request`.
    pub source: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// A JSON pointer into the profile (or into the request, for `source: "request"`).
    pub pointer: Option<String>,
}

impl ApiError {
    pub fn new(message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            source: None,
            line: None,
            column: None,
            pointer: None,
        }
    }

    /// An error about a field of the request.
    pub fn field(pointer: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            source: Some("request".into()),
            pointer: Some(pointer.into()),
            ..ApiError::new(message)
        }
    }

    pub fn at(location: &Location, message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            source: Some(location.source.clone()),
            line: Some(location.line),
            column: Some(location.column),
            pointer: (!location.pointer.is_empty()).then(|| location.pointer.clone()),
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("message".into(), json!(self.message));
        if let Some(s) = &self.source {
            m.insert("source".into(), json!(s));
        }
        if let Some(l) = self.line {
            m.insert("line".into(), json!(l));
        }
        if let Some(c) = self.column {
            m.insert("column".into(), json!(c));
        }
        if let Some(p) = &self.pointer {
            m.insert("pointer".into(), json!(p));
        }
        Value::Object(m)
    }
}

/// A diagnostic (a warning) in the same shape as an error.
pub fn diagnostic_json(d: &Diagnostic) -> Value {
    ApiError::at(&d.location, d.to_string()).to_json()
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> ApiError {
        ApiError::at(e.location(), e.to_string())
    }
}

impl From<ResolveError> for ApiError {
    fn from(e: ResolveError) -> ApiError {
        match &e {
            ResolveError::Invalid(d) => ApiError::at(&d.location, e.to_string()),
            ResolveError::Conflict {
                profile, pointer, ..
            }
            | ResolveError::LibseccompHang {
                profile, pointer, ..
            }
            | ResolveError::TooLong {
                profile, pointer, ..
            }
            | ResolveError::RuntimeRefuses {
                profile, pointer, ..
            } => ApiError {
                source: Some(profile.clone()),
                pointer: Some(pointer.clone()),
                ..ApiError::new(e.to_string())
            },
        }
    }
}
