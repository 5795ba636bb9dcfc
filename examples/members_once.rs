//! One call and exit: the process the one-shot benchmark (`bench -- oneshot`) spawns, and the
//! binary whose size BENCHMARKS.md reports.
//!
//! ```text
//! NOMAD_ADDR=http://127.0.0.1:4646 cargo run --release --example members_once
//! ```
//!
//! Prints the number of gossip members; exits 1 with the error otherwise.

fn main() {
    let members = nomad_blocking::Client::from_env().and_then(|client| client.agent().members());
    match members {
        Ok(members) => println!("{}", members.members.len()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
