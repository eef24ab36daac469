//! The Management Node's installation wizard, which runs on the serial console: the exact
//! answers to every prompt in the guide's order (a pure rendering from typed inputs, secrets
//! named by their environment variable, never shown), and the wait until the management API
//! answers.

use std::fmt;
use std::net::Ipv4Addr;

use crate::client::Client;
use crate::error::PexipError;
use crate::status::ManagementVmStatus;
use crate::wait::{Deadline, WaitOptions};

/// What the wizard needs; passwords are named by environment variable only.
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
    /// The environment variable holding the web administration password.
    pub admin_password_env: String,
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
    /// Type the value of this environment variable (never shown), then Enter.
    SecretFromEnv(String),
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
            Answer::SecretFromEnv(var) => write!(
                f,
                "type the password from ${var} (right-click and Paste; Ctrl-V adds an invisible character)"
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
            writeln!(f, "{:>2}. {}: {}", i + 1, step.prompt, step.answer)?;
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
    let os_pw = || Answer::SecretFromEnv(inputs.os_password_env.clone());
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
            Answer::SecretFromEnv(inputs.admin_password_env.clone()),
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
            admin_password_env: "PEXIP_ADMIN_PASSWORD".into(),
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
    fn passwords_are_named_never_shown() {
        let text = render_wizard(&inputs()).to_string();
        assert!(
            text.contains("the password from $PEXIP_ADMIN_PASSWORD"),
            "{text}"
        );
        assert!(text.contains("$PEXMGR_OS_PASSWORD"));
        assert!(text.contains("type `169.254.169.254 0.pool.ntp.org`"));
        assert!(text.contains("press Enter to accept the default (expected `10.0.1.10`)"));
        assert!(text.contains("warning: the instance has no public IP address"));
    }
}
