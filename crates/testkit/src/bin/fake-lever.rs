//! `fake-lever`: runs Switchboard's fake Lever Data API by hand, until Ctrl-C.
//!
//! ```text
//! fake-lever [--port N]
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use switchboard_testkit::fake_lever::FakeLever;

const USAGE: &str = "usage: fake-lever [--port N]";

#[tokio::main]
async fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(Some(port)) => port,
        Ok(None) => {
            println!("{USAGE}\n\nRuns a fake Lever Data API v1 on 127.0.0.1 until Ctrl-C.");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let lever = match FakeLever::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
        Ok(lever) => lever,
        Err(error) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("fake Lever Data API listening");
    println!("base url:      {}", lever.base_url());
    println!("api key:       {}", FakeLever::API_KEY);
    println!("access token:  {}", FakeLever::ACCESS_TOKEN);
    println!("authorization: {}", FakeLever::basic_authorization());
    println!("user id:       {}", FakeLever::USER_ID);
    println!("posting id:    {}", FakeLever::POSTING_ID);
    println!(
        "try:           curl -u {}: {}/opportunities",
        FakeLever::API_KEY,
        lever.base_url()
    );
    println!("press Ctrl-C to stop");
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
        return ExitCode::FAILURE;
    }
    lever.shutdown();
    ExitCode::SUCCESS
}

/// The port from `--port N` or `--port=N` (0 when absent); `None` for `--help`.
fn parse_port(mut args: impl Iterator<Item = String>) -> Result<Option<u16>, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => args
                .next()
                .ok_or_else(|| "`--port` needs a value".to_owned())?,
            other => match other.strip_prefix("--port=") {
                Some(value) => value.to_owned(),
                None => return Err(format!("unexpected argument `{other}`")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port `{value}`"))?;
    }
    Ok(Some(port))
}
