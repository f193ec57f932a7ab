//! The `agentpay` binary. All behaviour lives in the library (`agentpay::cli`).

use clap::Parser;

#[actix_web::main]
async fn main() {
    let cli = agentpay::cli::Cli::parse();
    let code = match agentpay::cli::run(cli).await {
        Ok(()) => 0,
        Err(e) => {
            // `{:#}` prints the whole context chain: "database unreachable at …: connection refused".
            eprintln!("error: {e:#}");
            tracing::error!(error = format!("{e:#}"), "exiting");
            1
        }
    };
    // Exit here, before the actix runtime is dropped: by now the server has stopped, replies
    // are stored and the pool is closed, but actor futures still parked on the runtime may hold
    // pool connections whose drop needs a live runtime (it panicked at exit under load).
    std::process::exit(code);
}
