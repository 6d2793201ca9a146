//! (b) Open from bytes and decode: see `exercise::read`.
#![no_main]

#[path = "../exercise.rs"]
mod exercise;

libfuzzer_sys::fuzz_target!(|data: &[u8]| exercise::read(data));
