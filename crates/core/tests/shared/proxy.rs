//! A TCP proxy in front of PostgreSQL that plays a bad network, shared by the tests and the
//! benchmark. `down` is a cut that answers: open connections are closed and new ones refused
//! at once (as a server restart or an unplugged server does). `freeze` is a cut that does not:
//! connections are accepted and nothing flows either way, with no reset (as Wi-Fi, a VPN or a
//! pulled switch uplink does); `up` thaws it and everything held flows again.

#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Frozen,
    Down,
}

pub struct Proxy {
    pub port: u16,
    /// The mode, and how many cuts happened (a connection dies at a cut after its start).
    state: watch::Sender<(Mode, u64)>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy port");
        let port = listener.local_addr().expect("proxy address").port();
        let (state, states) = watch::channel((Mode::Up, 0u64));
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let (mode, cuts) = *states.borrow();
                if mode == Mode::Down {
                    continue; // dropped: the client sees the connection closed
                }
                let states = states.clone();
                tokio::spawn(async move {
                    // Frozen: accepted, but nothing happens until it thaws.
                    let mut waiting = states.clone();
                    if !wait_up(&mut waiting, cuts).await {
                        return;
                    }
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (client_read, client_write) = inbound.into_split();
                    let (server_read, server_write) = outbound.into_split();
                    tokio::join!(
                        pump(client_read, server_write, states.clone(), cuts),
                        pump(server_read, client_write, states, cuts),
                    );
                });
            }
        });
        Proxy { port, state }
    }

    /// Closes every open connection and refuses new ones.
    pub fn down(&self) {
        self.state.send_modify(|(mode, cuts)| {
            *mode = Mode::Down;
            *cuts += 1;
        });
    }

    /// Stops forwarding, without closing or refusing anything.
    pub fn freeze(&self) {
        self.state.send_modify(|(mode, _)| *mode = Mode::Frozen);
    }

    /// Forwards again (what was held while frozen flows on).
    pub fn up(&self) {
        self.state.send_modify(|(mode, _)| *mode = Mode::Up);
    }
}

/// Waits until the proxy forwards; false when a cut after `born` ended the connection.
async fn wait_up(states: &mut watch::Receiver<(Mode, u64)>, born: u64) -> bool {
    loop {
        let (mode, cuts) = *states.borrow_and_update();
        if cuts > born {
            return false;
        }
        if mode == Mode::Up {
            return true;
        }
        if states.changed().await.is_err() {
            return false;
        }
    }
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut states: watch::Receiver<(Mode, u64)>,
    born: u64,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        if !wait_up(&mut states, born).await {
            return;
        }
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            changed = states.changed() => {
                if changed.is_err() { return; }
                continue;
            }
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Data read just as the network froze is held until it thaws.
        if !wait_up(&mut states, born).await || to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}
