//! The library half of the `agentstatus` command: its output rendering, shared with the fuzz
//! targets (`fuzz/`) so that any server data is rendered without a panic.
#![warn(missing_docs)]

pub mod output;
