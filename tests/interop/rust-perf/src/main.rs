//! rust-libp2p perf peer for lp2p-interop.
//!
//! The wire side is the `libp2p-perf` crate's own `client::Behaviour` and
//! `server::Behaviour` (`/perf/1.0.0`, one big-endian u64 header). Around
//! them, this binary reproduces what rust-libp2p's test-plans perf binary
//! (`protocols/perf/src/bin/perf.rs`) does, written afresh:
//!
//! * CLI: `--run-server --server-address IP:PORT`, or a client with
//!   `--server-address IP:PORT --transport tcp|quic-v1 --upload-bytes N
//!   --download-bytes M`.
//! * Swarm: a new ed25519 identity; tcp (nodelay) with TLS and yamux only
//!   (no Noise), quic-v1, dns; outbound streams negotiated with
//!   multistream-select V1Lazy; 5 min idle connection timeout.
//! * Server: listens on tcp and udp/quic-v1 at the same port, serves until
//!   killed.
//! * Client: dials without a peer id, runs one perf exchange and prints one
//!   JSON line per progress report, `{"type":"intermediate",...}` (upstream
//!   spells it "intermediate", not the "intermediary" of the test-plans
//!   README), then `{"type":"final","timeSeconds":..,"uploadBytes":..,
//!   "downloadBytes":..}` timed from before the dial.
//!
//! Deviations, none on the wire: logs go to stderr (upstream's tracing
//! writes to stdout, though nothing is logged without RUST_LOG); a bad
//! command line or an unexpected swarm event ends with an error message
//! and exit 1 instead of a panic (exit 101); the server logs unexpected
//! swarm events instead of panicking.
use std::{net::SocketAddr, time::Duration, time::Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use futures::StreamExt;
use libp2p::{
    core::{multiaddr::Protocol, upgrade::Version, Multiaddr},
    swarm::{NetworkBehaviour, Swarm, SwarmEvent},
    PeerId, SwarmBuilder,
};
use libp2p_perf::{client, server, Final, Intermediate, RunParams, RunUpdate};
use serde::Serialize;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    name = "rust-perf",
    about = "libp2p-perf client/server (test-plans perf CLI)"
)]
struct Args {
    #[arg(long)]
    server_address: Option<SocketAddr>,
    /// tcp or quic-v1
    #[arg(long)]
    transport: Option<String>,
    #[arg(long)]
    upload_bytes: Option<usize>,
    #[arg(long)]
    download_bytes: Option<usize>,
    /// Serve instead of measuring.
    #[arg(long)]
    run_server: bool,
}

/// One output line; field names as upstream's serde camelCase ones.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    r#type: &'a str,
    time_seconds: f64,
    upload_bytes: usize,
    download_bytes: usize,
}

fn emit(kind: &str, secs: f64, up: usize, down: usize) {
    let line = Line {
        r#type: kind,
        time_seconds: secs,
        upload_bytes: up,
        download_bytes: down,
    };
    // println! flushes at the newline only on a terminal; write and flush.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(&line).expect("plain struct")
    );
    let _ = out.flush();
}

fn tcp_addr(a: SocketAddr) -> Multiaddr {
    Multiaddr::empty()
        .with(a.ip().into())
        .with(Protocol::Tcp(a.port()))
}

fn quic_addr(a: SocketAddr) -> Multiaddr {
    Multiaddr::empty()
        .with(a.ip().into())
        .with(Protocol::Udp(a.port()))
        .with(Protocol::QuicV1)
}

async fn build_swarm<B: NetworkBehaviour + Default>() -> Result<Swarm<B>> {
    Ok(SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default().nodelay(true),
            libp2p::tls::Config::new,
            libp2p::yamux::Config::default,
        )?
        .with_quic()
        .with_dns()?
        .with_behaviour(|_| B::default())?
        .with_swarm_config(|c| {
            c.with_substream_upgrade_protocol_override(Version::V1Lazy)
                .with_idle_connection_timeout(Duration::from_secs(300))
        })
        .build())
}

async fn run_server(at: SocketAddr) -> Result<()> {
    let mut swarm = build_swarm::<server::Behaviour>().await?;
    swarm.listen_on(tcp_addr(at))?;
    swarm.listen_on(quic_addr(at))?;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                eprintln!("listening on {address}");
            }
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                tracing::info!(peer = %peer_id, "connection established")
            }
            SwarmEvent::Behaviour(server::Event {
                remote_peer_id,
                stats,
            }) => {
                tracing::info!(peer = %remote_peer_id, ?stats, "finished run")
            }
            e @ SwarmEvent::IncomingConnectionError { .. } => tracing::error!("{e:?}"),
            e => tracing::debug!("{e:?}"),
        }
    }
}

async fn dial(swarm: &mut Swarm<client::Behaviour>, addr: Multiaddr) -> Result<PeerId> {
    swarm.dial(addr)?;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => return Ok(peer_id),
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                bail!("outgoing connection error to {peer_id:?}: {error:?}")
            }
            SwarmEvent::Dialing { .. } => {}
            e => bail!("unexpected event while dialing: {e:?}"),
        }
    }
}

async fn run_client(addr: Multiaddr, params: RunParams) -> Result<()> {
    let mut swarm = build_swarm::<client::Behaviour>().await?;
    let start = Instant::now();
    let server = dial(&mut swarm, addr).await?;
    swarm
        .behaviour_mut()
        .perf(server, params)
        .map_err(|e| anyhow!("perf: {e:?}"))?;
    loop {
        match swarm.select_next_some().await {
            SwarmEvent::Behaviour(client::Event {
                result: Ok(RunUpdate::Intermediate(i)),
                ..
            }) => {
                let Intermediate {
                    duration,
                    sent,
                    received,
                } = i;
                emit("intermediate", duration.as_secs_f64(), sent, received);
            }
            SwarmEvent::Behaviour(client::Event {
                result: Ok(RunUpdate::Final(Final { duration })),
                ..
            }) => {
                tracing::info!(?duration, "run done");
                break;
            }
            e => bail!("unexpected event during the run: {e:?}"),
        }
    }
    emit(
        "final",
        start.elapsed().as_secs_f64(),
        params.to_send,
        params.to_receive,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(EnvFilter::from_default_env())
        .try_init();
    let a = Args::parse();
    let at = a
        .server_address
        .context("--server-address IP:PORT is required")?;
    if a.run_server {
        if a.transport.is_some() || a.upload_bytes.is_some() || a.download_bytes.is_some() {
            bail!("--run-server takes only --server-address");
        }
        return run_server(at).await;
    }
    let addr = match a.transport.as_deref() {
        Some("tcp") => tcp_addr(at),
        Some("quic-v1") => quic_addr(at),
        Some(other) => bail!("unknown transport {other}"),
        None => bail!("--transport tcp|quic-v1 is required"),
    };
    // Upstream unwraps both sizes: a client needs them.
    let params = RunParams {
        to_send: a.upload_bytes.context("--upload-bytes is required")?,
        to_receive: a.download_bytes.context("--download-bytes is required")?,
    };
    run_client(addr, params).await
}
