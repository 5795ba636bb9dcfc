//! Every operation's `parse_response`, fed an arbitrary status, content type and body. The `op`
//! byte chooses the operation from `nomad_proto::agent::OPERATIONS` (plus a few extra variants):
//! see `nomad_fuzz::parser`. A new operation in that list needs no change here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nomad_fuzz::{parse, parser, FuzzResponse};

fuzz_target!(|input: FuzzResponse<'_>| {
    parse(parser(input.op), input.response());
});
