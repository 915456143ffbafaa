//! Fuzz target `yaml_round_trip`: the property is `strata::fuzzing::yaml_round_trip`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| strata::fuzzing::yaml_round_trip(data));
