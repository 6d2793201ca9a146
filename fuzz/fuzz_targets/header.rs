//! (d) The header decoder fed ranges in any order: see `exercise::header`.
#![no_main]

#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::header(data));
