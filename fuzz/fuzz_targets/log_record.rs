//! `LogRecord::parse` on arbitrary text: never panics; a parsed record no longer holds the
//! `@`-keys it took out; errors have a bounded message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nomad_proto::stream::LogRecord;

fuzz_target!(|line: &str| {
    match LogRecord::parse(line) {
        Ok(record) => {
            for key in ["@level", "@message", "@timestamp", "@module", "@caller"] {
                assert!(!record.fields.contains_key(key), "{key} left in fields");
            }
            let _ = format!("{record:?} {}", record.level);
        }
        Err(err) => {
            let text = err.to_string();
            // Snippets hold about 200 bytes, shown escaped (`\u{1b}` is 6 bytes for 1).
            assert!(text.len() <= 2048, "error Display is {} bytes", text.len());
            let _ = format!("{err:?}");
        }
    }
});
