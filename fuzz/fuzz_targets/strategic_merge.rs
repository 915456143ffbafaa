//! Fuzz target `strategic_merge`: the property is `strata::fuzzing::strategic_merge`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::strategic_merge(data));
