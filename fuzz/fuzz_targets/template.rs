//! Fuzz target `template`: the property is `strata::fuzzing::template`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::template(data));
