//! The topology page: `pexspec graph --format html`. One self-contained HTML file (no
//! network access when opened: inline style and script, no fonts or images from elsewhere)
//! that shows a platform the way its operators think of it: regions with their VCN and
//! subnet ranges, the peering mesh between them, the Management Node, and the Conferencing
//! Nodes grouped by location and role with their addresses and estimated call capacity.
//! Given a plan, every resource is coloured by what the plan does to it.
//!
//! It stays usable at 50 regions and 2,000 nodes: regions and locations are `<details>`
//! sections that start closed when there are many, a search box filters the nodes, and the
//! peering mesh highlights one region's peerings on hover.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use pexspec_check::{LocationCapacity, location_capacity};
use pexspec_spec::{ConferencingNode, Role, Spec};

use crate::{Graph, Kind};

/// What a plan does to each resource, by address (`instance[pexconf01]` → `create`). The
/// actions are the plan document's (`create`, `update`, `replace`, `delete`, `noop`, and any
/// later one, which is shown by name with a neutral colour).
pub type Actions = BTreeMap<String, String>;

/// Regions above this count start collapsed.
const OPEN_REGIONS_UP_TO: usize = 12;
/// Locations with more nodes than this start collapsed.
const OPEN_NODES_UP_TO: usize = 40;

/// The topology page of `spec` (compiled to `graph`), with each resource coloured by `plan`
/// when one is given.
pub fn topology_html(spec: &Spec, graph: &Graph, plan: Option<&Actions>) -> String {
    let mut page = Page {
        spec,
        graph,
        plan,
        out: String::with_capacity(64 * 1024 + spec.conferencing_nodes.len() * 600),
    };
    page.render();
    page.out
}

struct Page<'a> {
    spec: &'a Spec,
    graph: &'a Graph,
    plan: Option<&'a Actions>,
    out: String,
}

/// The order in which actions outrank each other when several resources make one thing
/// (a node is its instance, its public IP, its `worker_vm` and its bootstrap).
const RANK: &[&str] = &[
    "replace", "delete", "create", "update", "wait", "adopt", "noop",
];

fn rank(action: &str) -> usize {
    RANK.iter()
        .position(|a| *a == action)
        .unwrap_or(RANK.len() - 1)
}

impl Page<'_> {
    fn render(&mut self) {
        let stack = esc(&self.spec.name.value);
        let _ = write!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{stack}: Pexip Infinity on OCI</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        );
        self.header();
        self.out.push_str("<div class=\"top\">");
        self.mesh();
        self.locations_summary();
        self.out.push_str("</div>\n");
        self.out.push_str(
            "<div class=\"tools\"><label>Find a node <input id=\"find\" type=\"search\" \
             placeholder=\"name, address or FQDN\" autocomplete=\"off\"></label> \
             <span id=\"found\"></span></div>\n<main class=\"regions\">\n",
        );
        let regions: Vec<String> = {
            let mut seen = BTreeSet::new();
            self.spec
                .regions
                .iter()
                .map(|r| r.name.value.clone())
                .filter(|r| seen.insert(r.clone()))
                .collect()
        };
        let open = regions.len() <= OPEN_REGIONS_UP_TO;
        for region in &regions {
            self.region(region, open);
        }
        self.on_premises();
        self.out.push_str("</main>\n");
        self.pexip();
        self.removed();
        let _ = write!(self.out, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    }

    /// The action of one address, if a plan is shown.
    fn action(&self, address: &str) -> Option<&str> {
        self.plan?.get(address).map(String::as_str)
    }

    /// The most significant action over several addresses.
    fn worst<'s>(&'s self, addresses: &[String]) -> Option<&'s str> {
        addresses
            .iter()
            .filter_map(|a| self.action(a))
            .min_by_key(|a| rank(a))
    }

    fn badge(&mut self, action: Option<&str>) {
        if let Some(action) = action {
            let class = if RANK.contains(&action) {
                action
            } else {
                "other"
            };
            let _ = write!(
                self.out,
                "<span class=\"badge {class}\">{}</span>",
                esc(action)
            );
        }
    }

    fn header(&mut self) {
        let spec = self.spec;
        let deployment = format!("{:?}", spec.deployment.value).to_lowercase();
        let _ = write!(
            self.out,
            "<header><h1>{}</h1><p class=\"sub\">Pexip Infinity on OCI · {deployment} deployment · \
             {} region{} · {} Conferencing Node{} · {} resources</p>",
            esc(&spec.name.value),
            spec.regions.len(),
            plural(spec.regions.len()),
            spec.conferencing_nodes.len(),
            plural(spec.conferencing_nodes.len()),
            self.graph.len(),
        );
        if let Some(plan) = self.plan {
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for action in plan.values() {
                *counts.entry(action.as_str()).or_default() += 1;
            }
            let mut ordered: Vec<(&str, usize)> = counts.into_iter().collect();
            ordered.sort_by_key(|(a, _)| rank(a));
            self.out.push_str("<p class=\"legend\">Plan: ");
            for (action, count) in ordered {
                self.badge(Some(action));
                let _ = write!(self.out, " {count} ");
            }
            self.out.push_str("</p>");
        }
        self.out.push_str("</header>\n");
    }

    /// The peering mesh: regions on a circle, a line per peered pair.
    fn mesh(&mut self) {
        let regions: Vec<&str> = self.spec.regions.iter().map(|r| r.name.as_str()).collect();
        if regions.len() < 2 {
            return;
        }
        let pairs: Vec<(String, String, String)> = self
            .graph
            .nodes()
            .filter(|n| n.kind() == Kind::RpcPeering)
            .filter_map(|n| {
                let key = n.address.key()?;
                let (a, b) = key.split_once(':')?;
                Some((a.to_owned(), b.to_owned(), n.address.to_string()))
            })
            .collect();
        let n = regions.len();
        let radius = (50.0 + 8.0 * n as f64).min(360.0);
        let size = 2.0 * radius + 240.0;
        let center = size / 2.0;
        let position: BTreeMap<&str, (f64, f64, f64)> = regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let angle =
                    std::f64::consts::TAU * i as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
                (
                    *r,
                    (
                        center + radius * angle.cos(),
                        center + radius * angle.sin(),
                        angle,
                    ),
                )
            })
            .collect();
        let _ = write!(
            self.out,
            "<section class=\"mesh\"><h2>Peering: {} pair{}</h2>\
             <svg id=\"mesh\" width=\"{size:.0}\" viewBox=\"0 0 {size:.0} {size:.0}\" role=\"img\" \
             aria-label=\"remote peering between regions\">",
            pairs.len(),
            plural(pairs.len())
        );
        for (a, b, address) in &pairs {
            let (Some(pa), Some(pb)) = (position.get(a.as_str()), position.get(b.as_str())) else {
                continue;
            };
            let class = self.action(address).map_or("noop", |a| a);
            let _ = write!(
                self.out,
                "<line class=\"peer {}\" data-a=\"{}\" data-b=\"{}\" x1=\"{:.1}\" y1=\"{:.1}\" \
                 x2=\"{:.1}\" y2=\"{:.1}\"><title>{}</title></line>",
                esc(class),
                esc(a),
                esc(b),
                pa.0,
                pa.1,
                pb.0,
                pb.1,
                esc(address)
            );
        }
        for (region, (x, y, angle)) in &position {
            // Labels point away from the centre, so that neighbours never overlap; those
            // on the left half are turned half a circle to read left to right.
            let (lx, ly) = (x + 12.0 * angle.cos(), y + 12.0 * angle.sin());
            let left = angle.cos() < -1e-9;
            let anchor = if left { "end" } else { "start" };
            let degrees = angle.to_degrees() + if left { 180.0 } else { 0.0 };
            let _ = write!(
                self.out,
                "<g class=\"site\" data-region=\"{r}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\">\
                 <title>{r}</title></circle><text x=\"{lx:.1}\" y=\"{ly:.1}\" \
                 transform=\"rotate({degrees:.1} {lx:.1} {ly:.1})\" \
                 text-anchor=\"{anchor}\" dominant-baseline=\"middle\">{r}</text></g>",
                r = esc(region),
            );
        }
        self.out.push_str("</svg></section>\n");
    }

    /// Every location with its nodes by role and estimated calls, next to the spec's
    /// requirement: the capacity view of `capacity-short`.
    fn locations_summary(&mut self) {
        let spec = self.spec;
        let locations = location_capacity(spec);
        let _ = write!(
            self.out,
            "<section class=\"cap\"><h2>Locations: {}</h2><table class=\"cap\"><tr><th>location</th>\
             <th>regions</th><th>transcoding</th><th>proxying</th><th>HD calls</th><th>Full HD</th></tr>",
            locations.len()
        );
        let mut total = Some(0.0);
        for location in &locations {
            let regions: BTreeSet<&str> = spec
                .conferencing_nodes
                .iter()
                .filter(|n| n.location.value == location.name)
                .map(|n| n.region.as_str())
                .collect();
            let regions: Vec<&str> = regions.into_iter().collect();
            let (hd, full_hd) = match location.hd_calls {
                Some(hd) => (format!("{}", hd.floor()), format!("{}", (hd / 2.0).floor())),
                None => ("?".to_owned(), "?".to_owned()),
            };
            total = match (total, location.hd_calls) {
                (Some(t), Some(hd)) => Some(t + hd),
                _ => None,
            };
            let _ = write!(
                self.out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{hd}</td><td>{full_hd}</td></tr>",
                esc(&location.name),
                esc(&regions.join(", ")),
                location.transcoding.len(),
                location.proxying.len(),
            );
        }
        self.out.push_str("</table>");
        let required = spec
            .capacity
            .as_ref()
            .and_then(|c| c.hd_calls.as_ref())
            .map(|r| r.value);
        match (required, total) {
            (Some(required), Some(total)) => {
                let verdict = if total >= required as f64 {
                    "met"
                } else {
                    "short"
                };
                let _ = write!(
                    self.out,
                    "<p class=\"req {verdict}\">Required: {required} HD calls \
                     (<code>capacity.hd_calls</code>); estimated {}: {verdict}.</p>",
                    total.floor()
                );
            }
            (None, Some(total)) => {
                let _ = write!(
                    self.out,
                    "<p class=\"req\">Estimated in all: {} HD calls.</p>",
                    total.floor()
                );
            }
            _ => {}
        }
        self.out.push_str(
            "<p class=\"note\">Estimates from the deployment guide's HD capacity table per \
             transcoding node (proxying nodes add none); a Full HD call uses twice the \
             resources of an HD call (Pexip's resource allocation rules).</p></section>",
        );
    }

    fn region(&mut self, region: &str, open: bool) {
        let spec = self.spec;
        let Some(r) = spec.regions.iter().find(|r| r.name.value == region) else {
            return;
        };
        let resources: Vec<String> = self
            .graph
            .nodes()
            .filter(|n| n.region.as_deref() == Some(region))
            .map(|n| n.address.to_string())
            .collect();
        let nodes: Vec<&ConferencingNode> = spec
            .conferencing_nodes
            .iter()
            .filter(|n| n.region.value == region)
            .collect();
        let _ = write!(
            self.out,
            "<details class=\"region\" data-region=\"{r}\"{open}><summary><h2>{r}</h2>",
            r = esc(region),
            open = if open { " open" } else { "" }
        );
        let worst = self.worst(&resources).map(str::to_owned);
        self.badge(worst.as_deref());
        let _ = write!(
            self.out,
            "<span class=\"counts\">{} node{} · {} resources</span></summary>\
             <p class=\"net\">VCN <code>{}</code> · subnet <code>{}</code></p>",
            nodes.len(),
            plural(nodes.len()),
            resources.len(),
            esc(&r.vcn_cidr.raw),
            esc(&r.subnet_cidr.raw),
        );
        if let Some(m) = &spec.management_node
            && m.region.as_ref().is_some_and(|mr| mr.value == region)
        {
            let addresses = vec![
                format!("instance[{}]", m.name.value),
                format!("management_bootstrap[{}]", m.name.value),
            ];
            let action = self.worst(&addresses).map(str::to_owned);
            let address = m
                .private_ip
                .as_ref()
                .map_or_else(|| "assigned by OCI".to_owned(), |ip| ip.raw.clone());
            let _ = write!(
                self.out,
                "<div class=\"mgr\"><b>Management Node</b> <span class=\"name\">{}</span> \
                 <code>{}</code> {}.{}",
                esc(&m.name.value),
                esc(&address),
                esc(&m.hostname.value),
                esc(&m.domain.value),
            );
            if m.public_ip.as_ref().is_some_and(|p| p.value) {
                self.out.push_str(" <span class=\"tag\">public IP</span>");
            }
            self.badge(action.as_deref());
            self.out.push_str("</div>");
        }
        // Locations of this region, in the spec's order of locations.
        let capacity = location_capacity(spec);
        for location in &capacity {
            let here: Vec<&ConferencingNode> = nodes
                .iter()
                .copied()
                .filter(|n| n.location.value == location.name)
                .collect();
            if here.is_empty() {
                continue;
            }
            self.location(location, &here);
        }
        let _ = write!(
            self.out,
            "<details class=\"all\"><summary>All {} resources of {}</summary><ul class=\"res\">",
            resources.len(),
            esc(region)
        );
        for address in &resources {
            self.resource(address);
        }
        self.out.push_str("</ul></details></details>\n");
    }

    fn resource(&mut self, address: &str) {
        let _ = write!(self.out, "<li><code>{}</code>", esc(address));
        let action = self.action(address).map(str::to_owned);
        self.badge(action.as_deref());
        self.out.push_str("</li>");
    }

    fn location(&mut self, location: &LocationCapacity, nodes: &[&ConferencingNode]) {
        let open = nodes.len() <= OPEN_NODES_UP_TO;
        let capacity = match location.hd_calls {
            Some(hd) if !location.transcoding.is_empty() => format!(
                "about {} HD / {} Full HD calls (whole location)",
                hd.floor(),
                (hd / 2.0).floor()
            ),
            Some(_) => "proxying only: no call capacity of its own".to_owned(),
            None => "capacity unknown: a node's shape is not one pexspec knows".to_owned(),
        };
        let _ = write!(
            self.out,
            "<details class=\"location\"{}><summary><b>{}</b> <span class=\"counts\">{} · {}</span></summary>",
            if open { " open" } else { "" },
            esc(&location.name),
            nodes.len(),
            esc(&capacity),
        );
        for role in [Role::Transcoding, Role::Proxying] {
            let of_role: Vec<&&ConferencingNode> =
                nodes.iter().filter(|n| n.role.value == role).collect();
            if of_role.is_empty() {
                continue;
            }
            let label = match role {
                Role::Transcoding => "transcoding",
                Role::Proxying => "proxying",
            };
            let _ = write!(
                self.out,
                "<table class=\"nodes {label}\"><caption>{label} ({})</caption>\
                 <tr><th>node</th><th>private IP</th><th>public</th><th>SIP TLS FQDN</th><th>shape</th><th>plan</th></tr>",
                of_role.len()
            );
            for node in of_role {
                self.node(node);
            }
            self.out.push_str("</table>");
        }
        self.out.push_str("</details>");
    }

    fn node(&mut self, node: &ConferencingNode) {
        let name = &node.name.value;
        let addresses: Vec<String> = ["instance", "public_ip", "worker_vm", "node_bootstrap"]
            .iter()
            .map(|k| format!("{k}[{name}]"))
            .collect();
        let action = self.worst(&addresses).map(str::to_owned);
        let private = node
            .private_ip
            .as_ref()
            .map_or_else(|| "assigned by OCI".to_owned(), |ip| ip.raw.clone());
        let public = if node.public_ip.as_ref().is_some_and(|p| p.value) {
            "reserved IP (NAT)"
        } else {
            "none"
        };
        let fqdn = node.sip_tls_fqdn.as_ref().map_or("", |f| f.value.as_str());
        let shape = match node.shape.ocpus.as_ref() {
            Some(ocpus) => format!("{} · {} OCPU", node.shape.name.value, ocpus.value),
            None => node.shape.name.value.clone(),
        };
        let search = format!(
            "{name} {private} {fqdn} {}.{}",
            node.hostname.value, node.domain.value
        )
        .to_lowercase();
        let _ = write!(
            self.out,
            "<tr class=\"node\" data-search=\"{}\"><td>{}</td><td><code>{}</code></td><td>{}</td>\
             <td>{}</td><td>{}</td><td>",
            esc(&search),
            esc(name),
            esc(&private),
            public,
            esc(fqdn),
            esc(&shape),
        );
        self.badge(action.as_deref());
        self.out.push_str("</td></tr>");
    }

    /// A Management Node on premises (hybrid): outside every region.
    fn on_premises(&mut self) {
        let Some(m) = &self.spec.management_node else {
            return;
        };
        let Some(address) = &m.on_premises_address else {
            return;
        };
        let action = self
            .action(&format!("management_bootstrap[{}]", m.name.value))
            .map(str::to_owned);
        let _ = write!(
            self.out,
            "<details class=\"region onprem\" open><summary><h2>on premises</h2></summary>\
             <div class=\"mgr\"><b>Management Node</b> <span class=\"name\">{}</span> <code>{}</code> \
             {}.{} <span class=\"tag\">reached through the VPN</span>",
            esc(&m.name.value),
            esc(&address.raw),
            esc(&m.hostname.value),
            esc(&m.domain.value),
        );
        self.badge(action.as_deref());
        self.out.push_str("</div></details>\n");
    }

    /// The platform configuration on the Management Node.
    fn pexip(&mut self) {
        let resources: Vec<String> = self
            .graph
            .nodes()
            .filter(|n| !n.kind().is_oci())
            .map(|n| n.address.to_string())
            .collect();
        let _ = write!(
            self.out,
            "<section class=\"pexip\"><details><summary><h2>On the Management Node</h2>\
             <span class=\"counts\">{} objects</span></summary><ul class=\"res\">",
            resources.len()
        );
        for address in &resources {
            self.resource(address);
        }
        self.out.push_str("</ul></details></section>\n");
    }

    /// What the plan deletes: resources the spec no longer has.
    fn removed(&mut self) {
        let Some(plan) = self.plan else {
            return;
        };
        let known: BTreeSet<String> = self.graph.nodes().map(|n| n.address.to_string()).collect();
        let gone: Vec<&String> = plan.keys().filter(|a| !known.contains(*a)).collect();
        if gone.is_empty() {
            return;
        }
        let _ = write!(
            self.out,
            "<section class=\"removed\"><h2>Not in the spec any more ({})</h2><ul class=\"res\">",
            gone.len()
        );
        for address in gone {
            self.resource(address);
        }
        self.out.push_str("</ul></section>\n");
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Text as HTML (element content and quoted attribute values).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--fg:#1d2430;--muted:#5b6575;--line:#d5dae3;--bg:#f6f7fa;--card:#fff;
--create:#1f883d;--update:#9a6700;--replace:#bc4c00;--delete:#cf222e;--noop:#8c959f;--wait:#0969da;--adopt:#8250df}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{padding:16px 24px;background:#14213d;color:#fff}header h1{margin:0;font-size:22px}.sub{margin:4px 0 0;color:#c9d3e6}
.legend{margin:8px 0 0}.tools{padding:10px 24px}.tools input{padding:4px 8px;min-width:260px}#found{color:var(--muted);margin-left:8px}
.top{display:flex;flex-wrap:wrap;gap:16px;padding:0 24px;align-items:flex-start}
.mesh svg{max-width:min(100%,720px);height:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
.cap{flex:1;min-width:360px;max-height:760px;overflow:auto}table.cap{border-collapse:collapse;background:var(--card);border:1px solid var(--line);font-size:13px}
table.cap th,table.cap td{padding:3px 10px;text-align:left;border-bottom:1px solid #eef0f4;white-space:nowrap}table.cap th{color:var(--muted)}
.req.met{color:var(--create)}.req.short{color:var(--delete);font-weight:600}.note{color:var(--muted);font-size:12px;max-width:640px}
.mesh h2,.pexip h2,.removed h2{font-size:16px}
line.peer{stroke:#7d8da8;stroke-width:1.2;opacity:.55}line.peer.create{stroke:var(--create)}line.peer.delete{stroke:var(--delete)}line.peer.replace{stroke:var(--replace)}
line.peer.hot{stroke:#0969da;stroke-width:3;opacity:1}line.peer.dim{opacity:.08}
.site circle{fill:#14213d;cursor:pointer}.site text{font-size:11px;fill:var(--fg)}.site:hover circle{fill:#0969da}
.regions{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px;padding:10px 24px}
details.region{min-width:0;overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 12px}
details.region>summary,.pexip summary{cursor:pointer;display:flex;gap:10px;align-items:center;flex-wrap:wrap}details>summary h2{display:inline;font-size:16px;margin:0}
.counts{color:var(--muted);font-size:12px}.net{margin:6px 0;color:var(--muted)}code{font:12px ui-monospace,Menlo,monospace}
.mgr{margin:8px 0;padding:6px 8px;background:#eef3fb;border-radius:6px}.tag{font-size:11px;color:var(--muted);border:1px solid var(--line);border-radius:4px;padding:0 4px}
details.location{margin:8px 0;border-top:1px solid var(--line);padding-top:6px}details.location>summary{cursor:pointer}
table.nodes{width:100%;border-collapse:collapse;margin:6px 0;font-size:12px}table.nodes caption{text-align:left;color:var(--muted);font-size:12px}
table.nodes th{text-align:left;color:var(--muted);font-weight:600;border-bottom:1px solid var(--line)}table.nodes td{border-bottom:1px solid #eef0f4;padding:2px 4px;white-space:nowrap}
tr.node.match td{background:#fff4c2}.hidden{display:none}
.badge{display:inline-block;font-size:11px;color:#fff;border-radius:10px;padding:0 7px;margin-left:4px;background:var(--noop)}
.badge.create{background:var(--create)}.badge.update{background:var(--update)}.badge.replace{background:var(--replace)}.badge.delete{background:var(--delete)}.badge.wait{background:var(--wait)}.badge.adopt{background:var(--adopt)}
details.all summary{cursor:pointer;color:var(--muted);font-size:12px}ul.res{columns:2;font-size:12px;margin:4px 0;padding-left:18px}
.pexip,.removed{padding:0 24px 16px}
"#;

const SCRIPT: &str = r#"
(function(){
  var find=document.getElementById('find'),found=document.getElementById('found');
  var rows=Array.prototype.slice.call(document.querySelectorAll('tr.node'));
  find.addEventListener('input',function(){
    var q=find.value.trim().toLowerCase(),n=0;
    rows.forEach(function(r){
      var hit=q!==''&&r.getAttribute('data-search').indexOf(q)>=0;
      r.classList.toggle('match',hit);
      r.classList.toggle('hidden',q!==''&&!hit);
      if(hit){n++;for(var p=r.parentElement;p;p=p.parentElement){if(p.tagName==='DETAILS'){p.open=true;}}}
    });
    found.textContent=q===''?'':(n+' node'+(n===1?'':'s'));
  });
  var lines=Array.prototype.slice.call(document.querySelectorAll('line.peer'));
  Array.prototype.forEach.call(document.querySelectorAll('g.site'),function(g){
    var r=g.getAttribute('data-region');
    g.addEventListener('mouseenter',function(){lines.forEach(function(l){
      var on=l.getAttribute('data-a')===r||l.getAttribute('data-b')===r;
      l.classList.toggle('hot',on);l.classList.toggle('dim',!on);});});
    g.addEventListener('mouseleave',function(){lines.forEach(function(l){l.classList.remove('hot','dim');});});
    g.addEventListener('click',function(){var d=document.querySelector('details.region[data-region="'+r+'"]');
      if(d){d.open=true;d.scrollIntoView({behavior:'smooth'});}});
  });
  document.body.setAttribute('data-ready','1');
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Spec {
        let path = format!("{}/../../specs/{name}", env!("CARGO_MANIFEST_DIR"));
        pexspec_spec::load_file(std::path::Path::new(&path))
            .unwrap()
            .spec
            .unwrap()
    }

    #[test]
    fn the_page_shows_regions_peering_nodes_and_capacity() {
        let spec = spec("zurich-frankfurt.yaml");
        let graph = crate::compile(&spec).unwrap();
        let html = topology_html(&spec, &graph, None);
        for needle in [
            "<h2>eu-zurich-1</h2>",
            "<h2>eu-frankfurt-1</h2>",
            "VCN <code>10.41.0.0/16</code>",
            "subnet <code>10.0.1.0/24</code>",
            "Peering: 1 pair",
            "data-a=\"eu-frankfurt-1\" data-b=\"eu-zurich-1\"",
            "<b>Management Node</b> <span class=\"name\">pexmgr</span>",
            "<b>Frankfurt</b>",
            "about 46 HD / 23 Full HD calls",
            "<td>pexconf01</td>",
            "<tr><td>Frankfurt</td><td>eu-frankfurt-1</td><td>2</td><td>0</td><td>46</td><td>23</td></tr>",
            "Required: 50 HD calls (<code>capacity.hd_calls</code>); estimated 58: met.",
        ] {
            assert!(html.contains(needle), "missing {needle:?}");
        }
        assert!(!html.contains("class=\"badge"), "no plan, no badges");
        // Self-contained: nothing is loaded from elsewhere.
        for remote in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!html.contains(remote), "the page refers to {remote:?}");
        }
    }

    #[test]
    fn a_plan_colours_each_node_by_its_most_significant_action() {
        let spec = spec("quickstart.yaml");
        let graph = crate::compile(&spec).unwrap();
        let mut plan: Actions = graph
            .nodes()
            .map(|n| (n.address.to_string(), "noop".to_owned()))
            .collect();
        plan.insert("worker_vm[pexconf01]".into(), "update".into());
        plan.insert("instance[pexconf01]".into(), "replace".into());
        plan.insert("instance[pexold]".into(), "delete".into());
        let html = topology_html(&spec, &graph, Some(&plan));
        let row = html
            .split("<tr class=\"node\"")
            .find(|r| r.contains("<td>pexconf01</td>"))
            .unwrap();
        assert!(row.contains("badge replace"), "{row}");
        assert!(!row.contains("badge update"), "{row}");
        assert!(html.contains("Not in the spec any more (1)"));
        assert!(html.contains("<code>instance[pexold]</code>"));
    }

    #[test]
    fn text_from_the_spec_is_escaped() {
        assert_eq!(esc("<b a=\"x\">&'"), "&lt;b a=&quot;x&quot;&gt;&amp;&#39;");
    }
}
