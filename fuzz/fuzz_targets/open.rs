//! (a) Open from bytes and introspect: see `exercise::open`.
#![no_main]

#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::open(data));
