//! The Management Node's installation wizard, which runs on the serial console: the exact
//! answers to every prompt in the guide's order (a pure rendering from typed inputs, secrets
//! named by where they come from, never shown), the instructions an operator is given (how to
//! connect, every answer, how pexspec continues), the [`ConsoleAccess`] that finds the
//! connect command, and the wait until the management API answers.

use std::fmt;
use std::future::Future;
use std::net::Ipv4Addr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pexspec_graph::Address;

use crate::client::Client;
use crate::error::PexipError;
use crate::status::ManagementVmStatus;
use crate::wait::{Deadline, WaitOptions};

/// Where a password the operator types comes from (its value is never held here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable of the operator's shell.
    Env(String),
    /// A file.
    File(String),
    /// Written in clear in the spec.
    Inline,
}

impl SecretSource {
    /// The source of a spec secret reference (`env:NAME`, `file:PATH`, `inline`).
    pub fn from_reference(reference: &str) -> SecretSource {
        if let Some(name) = reference.strip_prefix("env:") {
            SecretSource::Env(name.to_owned())
        } else if let Some(path) = reference.strip_prefix("file:") {
            SecretSource::File(path.to_owned())
        } else {
            SecretSource::Inline
        }
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => write!(f, "the value of ${name}"),
            SecretSource::File(path) => write!(f, "the contents of the file `{path}`"),
            SecretSource::Inline => f.write_str("the password written in the spec"),
        }
    }
}

/// What the wizard needs; passwords are named by where they come from only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardInputs {
    /// The command that opens the serial console (from the OCI console connection).
    pub console_command: String,
    /// The environment variable holding the new operating-system password of `admin`.
    pub os_password_env: String,
    /// The address OCI gave the instance (the wizard's default; shown to compare).
    pub address: Option<Ipv4Addr>,
    /// The subnet's network mask (the wizard's default; shown to compare).
    pub netmask: Option<Ipv4Addr>,
    /// The subnet's gateway (the wizard's default; shown to compare).
    pub gateway: Option<Ipv4Addr>,
    /// Management Node hostname.
    pub hostname: String,
    /// Domain suffix.
    pub domain: String,
    /// DNS servers.
    pub dns_servers: Vec<String>,
    /// NTP servers.
    pub ntp_servers: Vec<String>,
    /// Web administration username.
    pub admin_username: String,
    /// Where the web administration password comes from.
    pub admin_password: SecretSource,
    /// Enable incident reporting.
    pub enable_incident_reporting: bool,
    /// Send deployment and usage statistics to Pexip.
    pub send_usage_statistics: bool,
    /// Whether the instance has a public IP address (the wizard's default DNS and NTP servers
    /// are reachable only then).
    pub public_ip: bool,
}

/// How to answer one prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Type this text, then Enter.
    Type(String),
    /// Press Enter to keep the default (expected value shown when known).
    AcceptDefault(Option<String>),
    /// Type the password from this source (never shown), then Enter.
    Secret(SecretSource),
    /// Answer yes or no.
    YesNo(bool),
    /// Nothing to type: wait for this to appear.
    WaitFor(String),
    /// Run this command on your workstation.
    Run(String),
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Type(t) => write!(f, "type `{t}`"),
            Answer::AcceptDefault(Some(v)) => {
                write!(f, "press Enter to accept the default (expected `{v}`)")
            }
            Answer::AcceptDefault(None) => f.write_str("press Enter to accept the default"),
            Answer::Secret(source) => write!(
                f,
                "type {source} (right-click and Paste; Ctrl-V adds an invisible character)"
            ),
            Answer::YesNo(true) => f.write_str("answer `yes`"),
            Answer::YesNo(false) => f.write_str("answer `no`"),
            Answer::WaitFor(what) => write!(f, "wait for `{what}`"),
            Answer::Run(cmd) => write!(f, "run `{cmd}`"),
        }
    }
}

/// One prompt and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardStep {
    /// The prompt as the console shows it (or the guide names it).
    pub prompt: String,
    /// The answer.
    pub answer: Answer,
    /// Why, or what to check.
    pub note: Option<String>,
}

/// Every step, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WizardScript {
    /// The steps.
    pub steps: Vec<WizardStep>,
    /// Warnings about the inputs (e.g. default DNS without a public IP).
    pub warnings: Vec<String>,
}

impl fmt::Display for WizardScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        for (i, step) in self.steps.iter().enumerate() {
            // Console prompts end with their own colon (`pexipmcumgr login:`).
            let colon = if step.prompt.ends_with(':') { "" } else { ":" };
            writeln!(f, "{:>2}. {}{colon} {}", i + 1, step.prompt, step.answer)?;
            if let Some(note) = &step.note {
                writeln!(f, "    {note}")?;
            }
        }
        Ok(())
    }
}

fn step(prompt: &str, answer: Answer, note: Option<&str>) -> WizardStep {
    WizardStep {
        prompt: prompt.to_owned(),
        answer,
        note: note.map(str::to_owned),
    }
}

/// Renders the wizard's answers, in the order of the guide's "Running the installation wizard".
pub fn render_wizard(inputs: &WizardInputs) -> WizardScript {
    let mut warnings = Vec::new();
    if inputs.dns_servers.is_empty() {
        warnings.push("no DNS server given: the wizard needs at least one".to_owned());
    }
    if inputs.ntp_servers.is_empty() {
        warnings.push(
            "no NTP server given: the wizard fails if its NTP server cannot be reached".to_owned(),
        );
    }
    if !inputs.public_ip {
        warnings.push(
            "the instance has no public IP address: the wizard's default DNS and NTP servers are unreachable, so the \
             addresses below override them"
                .to_owned(),
        );
    }
    let ip = |a: Option<Ipv4Addr>| Answer::AcceptDefault(a.map(|a| a.to_string()));
    let os_pw = || Answer::Secret(SecretSource::Env(inputs.os_password_env.clone()));
    let steps = vec![
        step(
            "Open the serial console",
            Answer::Run(inputs.console_command.clone()),
            Some("press Enter if no prompt appears"),
        ),
        step("pexipmcumgr login:", Answer::Type("admin".into()), None),
        step(
            "Enter new UNIX password:",
            os_pw(),
            Some("the operating-system password of `admin`; keep it: SSH needs it"),
        ),
        step("Retype new UNIX password:", os_pw(), None),
        step(
            "[sudo] password for admin:",
            os_pw(),
            Some("the installation wizard starts"),
        ),
        step(
            "IP address",
            ip(inputs.address),
            Some("OCI assigns it; keep the default"),
        ),
        step("Network mask", ip(inputs.netmask), None),
        step("Gateway", ip(inputs.gateway), None),
        step("Hostname", Answer::Type(inputs.hostname.clone()), None),
        step("Domain suffix", Answer::Type(inputs.domain.clone()), None),
        step(
            "DNS servers",
            Answer::Type(inputs.dns_servers.join(" ")),
            Some(
                "separate several servers with spaces; pexspec adopts them as configuration objects",
            ),
        ),
        step(
            "NTP servers",
            Answer::Type(inputs.ntp_servers.join(" ")),
            Some(
                "must be reachable, or the wizard fails; pexspec adds the other servers of the spec later",
            ),
        ),
        step(
            "Web administration username",
            Answer::Type(inputs.admin_username.clone()),
            None,
        ),
        step(
            "Web administration password",
            Answer::Secret(inputs.admin_password.clone()),
            Some("pexspec logs in with it"),
        ),
        step(
            "Enable incident reporting",
            Answer::YesNo(inputs.enable_incident_reporting),
            None,
        ),
        step(
            "Send deployment and usage statistics to Pexip",
            Answer::YesNo(inputs.send_usage_statistics),
            None,
        ),
        step(
            &format!("{} login:", inputs.hostname),
            Answer::WaitFor(format!("{} login:", inputs.hostname)),
            Some(
                "the Management Node has restarted with these values; close the console, pexspec continues",
            ),
        ),
    ];
    WizardScript { steps, warnings }
}

/// Which serial console is wanted: the stack's Management Node and its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleTarget {
    /// The stack (`pexspec-stack` tag).
    pub stack: String,
    /// The `management_bootstrap` address.
    pub manager: Address,
    /// The Management Node's instance (`instance[NAME]`).
    pub instance: Address,
    /// The instance's region, when the graph gives one.
    pub region: Option<String>,
}

/// How to reach the serial console, as a [`ConsoleAccess`] found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleInfo {
    /// The command that opens the serial console (OCI's connection string).
    pub command: String,
    /// The command that forwards the VNC console to `localhost:5900`, when there is one.
    pub vnc_command: Option<String>,
    /// Notes shown with the command (which key to use, the host key's fingerprint).
    pub notes: Vec<String>,
}

/// The future a [`ConsoleAccess`] returns: the console, or why it cannot be opened.
pub type ConsoleFuture<'a> = Pin<Box<dyn Future<Output = Result<ConsoleInfo, String>> + Send + 'a>>;

/// Opens the Management Node's serial console (on OCI: an instance console connection) and
/// says how to connect. The Pexip provider asks it when a `management_bootstrap` create starts
/// in [`crate::WizardMode::Operator`] mode.
///
/// Any `Fn(&ConsoleTarget) -> ConsoleFuture<'static>` is one (the future owns what it needs).
pub trait ConsoleAccess: Send + Sync {
    /// The console of `target`.
    fn console<'a>(&'a self, target: &'a ConsoleTarget) -> ConsoleFuture<'a>;
}

impl<F> ConsoleAccess for F
where
    F: Fn(&ConsoleTarget) -> ConsoleFuture<'static> + Send + Sync,
{
    fn console<'a>(&'a self, target: &'a ConsoleTarget) -> ConsoleFuture<'a> {
        self(target)
    }
}

/// Receives the operator's instructions, once per `management_bootstrap` create that waits
/// for the wizard (the binary prints them).
pub type InstructionSink = Arc<dyn Fn(&str) + Send + Sync>;

/// A duration as the operator reads it: `45 s`, `30 min`, `1 h 30 min`.
pub(crate) fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

/// The instructions an operator is given when the wizard is theirs to run: the connect
/// command, every prompt and its exact answer (secrets named, never shown), and what pexspec
/// does next: waits up to `wait` for the management API at `api_url`, with the continue path
/// when it stops waiting first; without a wait, the continue path alone.
pub fn render_instructions(
    script: &WizardScript,
    console: &ConsoleInfo,
    api_url: &str,
    wait: Option<Duration>,
) -> String {
    let mut out = String::from(
        "The Management Node waits for its installation wizard, which runs on its serial console.\n",
    );
    out.push_str(&format!("Connect with:\n    {}\n", console.command));
    for note in &console.notes {
        out.push_str(&format!("    ({note})\n"));
    }
    if let Some(vnc) = &console.vnc_command {
        out.push_str(&format!(
            "or, for the VNC console (then a VNC viewer on localhost:5900):\n    {vnc}\n"
        ));
    }
    out.push_str("Answer every prompt as follows:\n");
    out.push_str(&script.to_string());
    match wait {
        Some(wait) => out.push_str(&format!(
            "pexspec waits up to {} for the management API at {api_url} to answer, then continues.\n\
             If it stops waiting first, finish the wizard and run `pexspec apply` again: it finds the \
             Management Node answering and continues from there.\n",
            human(wait)
        )),
        None => out.push_str(&format!(
            "Then run `pexspec apply` again: it finds the management API at {api_url} answering and \
             continues from there.\n"
        )),
    }
    out
}

/// Polls the management API until it answers with the admin credentials. Fails at once on
/// refused credentials or an untrusted certificate; other failures are waited out.
pub async fn wait_until_ready(
    client: &Client,
    opts: WaitOptions,
) -> Result<ManagementVmStatus, PexipError> {
    let mut deadline = Deadline::new(opts);
    let mut last;
    loop {
        match client.list::<ManagementVmStatus>(&[]).await {
            Ok(list) => return Ok(list.into_iter().next().unwrap_or_default()),
            Err(e @ (PexipError::Auth { .. } | PexipError::Trust(_) | PexipError::Config(_))) => {
                return Err(e);
            }
            Err(e) => last = e.to_string(),
        }
        if !deadline.next(client.sleeper().as_ref()).await {
            return Err(PexipError::Timeout {
                what: format!("the management API of `{}` to answer", client.base_url()),
                waited: deadline.elapsed(),
                hint: format!(
                    "complete the installation wizard on the Management Node's serial console (`pexspec` shows the answers); \
                     after it the node restarts and needs a few minutes; last error: {last}"
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> WizardInputs {
        WizardInputs {
            console_command: "ssh -o ProxyCommand='ssh -W %h:%p -p 443 ocid1.instanceconsoleconnection...' ocid1.instance...".into(),
            os_password_env: "PEXMGR_OS_PASSWORD".into(),
            address: Some(Ipv4Addr::new(10, 0, 1, 10)),
            netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            gateway: Some(Ipv4Addr::new(10, 0, 1, 1)),
            hostname: "pexmgr".into(),
            domain: "example.com".into(),
            dns_servers: vec!["169.254.169.254".into()],
            ntp_servers: vec!["169.254.169.254".into(), "0.pool.ntp.org".into()],
            admin_username: "admin".into(),
            admin_password: SecretSource::Env("PEXIP_ADMIN_PASSWORD".into()),
            enable_incident_reporting: false,
            send_usage_statistics: true,
            public_ip: false,
        }
    }

    #[test]
    fn prompts_follow_the_guide_order() {
        let script = render_wizard(&inputs());
        let prompts: Vec<&str> = script.steps.iter().map(|s| s.prompt.as_str()).collect();
        let wizard: Vec<&str> = prompts[5..16].to_vec();
        assert_eq!(
            wizard,
            [
                "IP address",
                "Network mask",
                "Gateway",
                "Hostname",
                "Domain suffix",
                "DNS servers",
                "NTP servers",
                "Web administration username",
                "Web administration password",
                "Enable incident reporting",
                "Send deployment and usage statistics to Pexip",
            ]
        );
        assert_eq!(prompts[1], "pexipmcumgr login:");
        assert_eq!(prompts.last(), Some(&"pexmgr login:"));
    }

    #[test]
    fn instructions_carry_the_command_every_answer_and_the_continue_path() {
        let script = render_wizard(&inputs());
        let console = ConsoleInfo {
            command: "ssh -o ProxyCommand='ssh -W %h:%p -p 443 ocid1.instanceconsoleconnection.x@instance-console.eu-zurich-1.oci.oraclecloud.com' ocid1.instance.y".into(),
            vnc_command: Some("ssh … -N -L localhost:5900:ocid1.instance.y:5900 ocid1.instance.y".into()),
            notes: vec!["ssh offers the private half of keys/pexip.pub".into()],
        };
        let text = render_instructions(
            &script,
            &console,
            "https://10.0.1.10/",
            Some(Duration::from_secs(3600)),
        );
        assert!(
            text.contains(&format!("Connect with:\n    {}\n", console.command)),
            "{text}"
        );
        assert!(text.contains("(ssh offers the private half of keys/pexip.pub)"));
        assert!(text.contains("localhost:5900"));
        assert!(text.contains(" 9. Hostname: type `pexmgr`"), "{text}");
        assert!(text.contains("waits up to 1 h for the management API at https://10.0.1.10/"));
        assert!(text.contains("run `pexspec apply` again"));
        let now = render_instructions(&script, &console, "https://10.0.1.10/", None);
        assert!(!now.contains("waits up to"), "{now}");
        assert!(now.contains("Then run `pexspec apply` again"), "{now}");
    }

    #[test]
    fn durations_read_like_a_person_would_say_them() {
        assert_eq!(human(Duration::from_secs(45)), "45 s");
        assert_eq!(human(Duration::from_secs(30 * 60)), "30 min");
        assert_eq!(human(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(human(Duration::from_secs(5400)), "1 h 30 min");
        assert_eq!(human(Duration::from_secs(7200)), "2 h");
    }

    #[test]
    fn secret_sources_are_named() {
        assert_eq!(
            SecretSource::from_reference("env:PEXIP_ADMIN_PASSWORD").to_string(),
            "the value of $PEXIP_ADMIN_PASSWORD"
        );
        assert_eq!(
            SecretSource::from_reference("file:secrets/admin").to_string(),
            "the contents of the file `secrets/admin`"
        );
        assert_eq!(SecretSource::from_reference("inline"), SecretSource::Inline);
    }

    #[test]
    fn passwords_are_named_never_shown() {
        let text = render_wizard(&inputs()).to_string();
        assert!(
            text.contains("type the value of $PEXIP_ADMIN_PASSWORD"),
            "{text}"
        );
        assert!(text.contains("$PEXMGR_OS_PASSWORD"));
        assert!(text.contains("type `169.254.169.254 0.pool.ntp.org`"));
        assert!(text.contains("press Enter to accept the default (expected `10.0.1.10`)"));
        assert!(text.contains("warning: the instance has no public IP address"));
    }
}
