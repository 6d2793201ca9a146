//! (c) Each codec on arbitrary bytes and layouts: see `exercise::codec`.
#![no_main]

#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::codec(data));
