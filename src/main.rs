//! The `agentpay` binary. All behaviour lives in the library (`agentpay::cli`).

use clap::Parser;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = agentpay::cli::Cli::parse();
    match agentpay::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole context chain: "database unreachable at …: connection refused".
            eprintln!("error: {e:#}");
            tracing::error!(error = format!("{e:#}"), "exiting");
            ExitCode::FAILURE
        }
    }
}
