//! Fuzz target `json_patch`: the property is `strata::fuzzing::json_patch`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::json_patch(data));
