fn main() -> Result<(), Box<dyn std::error::Error>> {
    let agent = nomad_blocking::test_agent::TestAgent::builder().acl("root").start()?;
    let c = agent.client_with_token("root")?;
    println!("{:?}", c.agent().members()?.members.len());
    println!("{:?}", c.agent().servers()?);
    println!("{:?}", c.agent().self_info()?.config.version());
    println!("{:?}", c.agent().join(["10.0.0.4", "10.9.9.9"]));
    println!("{:?}", c.agent().force_leave("nomad-2.global"));
    println!("{:?}", c.agent().health()?);
    agent.with_state(|s| s.has_leader = false);
    println!("{:?}", c.agent().health()?);
    println!("{}", agent.client()?.agent().members().unwrap_err());
    println!("{:?}", agent.requests().last());
    Ok(())
}
