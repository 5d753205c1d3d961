//! Cross-format tests: detection, UTF-8 errors, the bundled example traces, and
//! no-panic property tests on arbitrary and mutated input.

use super::*;
