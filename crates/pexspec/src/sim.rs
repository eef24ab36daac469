//! `pexspec sim serve`: the OCI and Pexip simulators as standalone servers on loopback,
//! announced by one JSON line (DESIGN.md §8), running until SIGINT or SIGTERM.

use std::io::Write;
use std::path::Path;

use pexspec_sim::oci::clock::SimClock;
use pexspec_sim::pexip::{PexipSimOptions, start};
use pexspec_sim::serve::{ServeOptions, serve as serve_oci};

use crate::cli::SimServeArgs;
use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};

/// The admin password of the simulated Management Nodes: from the environment, else a random
/// one kept in the state directory (owner-only), so that it is never printed.
fn admin_password(args: &SimServeArgs, state: &Path) -> std::io::Result<(String, String)> {
    if let Ok(value) = std::env::var(&args.admin_password_env)
        && !value.is_empty()
    {
        return Ok((value, format!("env:{}", args.admin_password_env)));
    }
    let path = state.join("pexip-admin-password");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok((
            existing.trim().to_owned(),
            format!("file:{}", path.display()),
        ));
    }
    let password = crate::world::random_text(24);
    // Created whole and exclusively: of two servers started together on one directory, the
    // first one's password is kept, and the other reads it.
    if !pexspec_journal::fsutil::create_whole(&path, password.as_bytes())? {
        let existing = std::fs::read_to_string(&path)?;
        return Ok((
            existing.trim().to_owned(),
            format!("file:{}", path.display()),
        ));
    }
    Ok((password, format!("file:{}", path.display())))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub(crate) fn serve(args: &SimServeArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        let _ = writeln!(
            err,
            "error: `--speed` must be a positive number, not `{}`",
            args.speed
        );
        return EXIT_USAGE;
    }
    // Each name becomes a directory of `STATE/pexip`: it may not leave it.
    for name in &args.management_nodes {
        if let Err(e) = pexspec_journal::fsutil::child(&args.state.join("pexip"), name) {
            let _ = writeln!(err, "error: `--management-node`: {e}");
            return EXIT_USAGE;
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.state) {
        let _ = writeln!(
            err,
            "error: cannot create the state directory `{}`: {e}",
            args.state.display()
        );
        return EXIT_USAGE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            return EXIT_FAILURE;
        }
    };
    runtime.block_on(async {
        let mut options = ServeOptions::default()
            .state_dir(&args.state)
            .clock(SimClock::scaled(args.speed));
        let regions = if args.regions.is_empty() {
            vec!["eu-frankfurt-1".to_owned()]
        } else {
            args.regions.clone()
        };
        for region in regions {
            options = options.region(region);
        }
        let mut oci = match serve_oci(options).await {
            Ok(oci) => oci,
            Err(e) => {
                let _ = writeln!(err, "error: cannot start the OCI simulator: {e}");
                return EXIT_FAILURE;
            }
        };
        let (password, password_source) = match admin_password(args, &args.state) {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: cannot keep the admin password in `{}`: {e}",
                    args.state.display()
                );
                return EXIT_FAILURE;
            }
        };
        let names = if args.management_nodes.is_empty() {
            vec!["pexmgr".to_owned()]
        } else {
            args.management_nodes.clone()
        };
        let mut pexips = Vec::new();
        for name in names {
            let Ok(dir) = pexspec_journal::fsutil::child(&args.state.join("pexip"), &name) else {
                return EXIT_USAGE; // Refused above.
            };
            let mut opts = PexipSimOptions::new(dir, password.clone());
            opts.auto_bootstrap = true;
            opts.time_scale = args.speed;
            opts.wizard.hostname = name.clone();
            match start(opts).await {
                Ok(sim) => {
                    oci.set_pexip_endpoint(name, sim.base_url());
                    pexips.push(sim);
                }
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "error: cannot start the Management Node simulator `{name}`: {e}"
                    );
                    return EXIT_FAILURE;
                }
            }
        }
        let mut line = oci.ready_line();
        line["pexip_admin_password"] = password_source.into();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return EXIT_FAILURE;
        }
        let _ = writeln!(err, "simulators ready; press Ctrl-C to stop");
        wait_for_signal().await;
        for sim in pexips {
            sim.stop().await;
        }
        oci.shutdown().await;
        EXIT_OK
    })
}
