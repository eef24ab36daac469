#!/usr/bin/env python3
"""Generates a large, clean pexspec spec for the benchmarks.

    gen_spec.py OUT.yaml [--scale N] [--regions R] [--nodes N] [--rooms M] [--ssh-password]

Scale 1: 50 regions, 2,000 Conferencing Nodes, 10,000 meeting rooms (the issue's target).
Scale N multiplies nodes and rooms by N (regions stay at 50: OCI has no more). `--regions`,
`--nodes` and `--rooms` set the counts directly (the apply benchmark's 200-node spec is
`--regions 10 --nodes 200 --rooms 50 --ssh-password`). Fewer regions than 50 are
eu-frankfurt-1 (the home region and the Management Node's) and then OCI's oldest regions
(FIRST), which every simulator knows; each region keeps its address plan whatever the count.
Every node has the SSH password a generic deployment needs (`lint` refuses a node without one,
`ssh-password-missing`); `--ssh-password` is kept for older command lines. The spec is clean but for the
`too-many-nodes` warning (over 20 nodes), so every check runs in full.
"""
import argparse
import ipaddress
import os
import shutil

REGIONS = [
    "af-johannesburg-1", "ap-batam-1", "ap-chuncheon-1", "ap-hyderabad-1", "ap-melbourne-1",
    "ap-mumbai-1", "ap-osaka-1", "ap-seoul-1", "ap-singapore-1", "ap-singapore-2", "ap-sydney-1",
    "ap-tokyo-1", "ca-montreal-1", "ca-toronto-1", "eu-amsterdam-1", "eu-frankfurt-1",
    "eu-jovanovac-1", "eu-madrid-1", "eu-marseille-1", "eu-milan-1", "eu-paris-1",
    "eu-stockholm-1", "eu-turin-1", "eu-zurich-1", "il-jerusalem-1", "me-abudhabi-1",
    "me-dubai-1", "me-jeddah-1", "me-riyadh-1", "mx-monterrey-1", "mx-queretaro-1",
    "sa-bogota-1", "sa-santiago-1", "sa-saopaulo-1", "sa-valparaiso-1", "sa-vinhedo-1",
    "uk-cardiff-1", "uk-london-1", "us-ashburn-1", "us-chicago-1", "us-phoenix-1",
    "us-sanjose-1", "eu-frankfurt-2", "eu-madrid-2", "us-saltlake-2", "ap-seoul-2",
    "ap-suwon-1", "ap-chuncheon-2", "eu-crissier-1", "us-somerset-1",
]

# The regions a smaller spec takes after eu-frankfurt-1, oldest first; then the rest in order.
FIRST = [
    "us-ashburn-1", "us-phoenix-1", "uk-london-1", "ca-toronto-1", "ap-tokyo-1", "ap-seoul-1",
    "ap-mumbai-1", "eu-zurich-1", "sa-saopaulo-1", "ap-sydney-1", "eu-amsterdam-1",
    "ap-osaka-1", "ap-melbourne-1", "ap-hyderabad-1", "ca-montreal-1", "ap-chuncheon-1",
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--scale", type=int, default=1)
    p.add_argument("--regions", type=int, help=f"number of regions, 1 to {len(REGIONS)} (default {len(REGIONS)})")
    p.add_argument("--nodes", type=int, help="number of Conferencing Nodes (default 2000 x scale)")
    p.add_argument("--rooms", type=int, help="number of meeting rooms (default 10000 x scale)")
    p.add_argument("--ssh-password", action="store_true",
                   help="give every node `ssh_password: { env: PEXCONF_SSH_PASSWORD }`")
    a = p.parse_args()
    nodes = 2000 * a.scale if a.nodes is None else a.nodes
    rooms = 10000 * a.scale if a.rooms is None else a.rooms
    count = len(REGIONS) if a.regions is None else a.regions
    if not 1 <= count <= len(REGIONS):
        p.error(f"--regions must be between 1 and {len(REGIONS)}")
    home = REGIONS.index("eu-frankfurt-1")
    # (index in REGIONS, name): the index fixes the region's address plan, whatever the count.
    preferred = [REGIONS.index(r) for r in FIRST] + [i for i in range(len(REGIONS)) if REGIONS[i] not in FIRST]
    chosen = [home] + [i for i in preferred if i != home][:count - 1]
    regions = sorted(chosen)
    here = os.path.dirname(os.path.abspath(__file__))
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(os.path.join(out_dir, "keys"), exist_ok=True)
    shutil.copy(os.path.join(here, "..", "specs", "keys", "pexip.pub"), os.path.join(out_dir, "keys", "pexip.pub"))
    w = []
    w.append("version: 1\nname: bench\ndeployment: public\n")
    w.append("oci:\n  home_region: eu-frankfurt-1\n  compartment: { name: Bench }\n")
    w.append("ssh_public_key: keys/pexip.pub\nmanagement_station: 192.0.2.0/24\n")
    w.append("images:\n  bucket: Pexip-images\n  management: images/Pexip_Infinity_v30_generic_pxMgr_59565.ova\n"
             "  conferencing: images/Pexip_Infinity_v30_generic_ConfNode_59565.ova\n")
    w.append("regions:\n")
    subnets = {}
    for i in regions:
        r = REGIONS[i]
        vcn = ipaddress.ip_network(f"10.{i}.0.0/16")
        subnet = ipaddress.ip_network(f"10.{i}.0.0/{20 if a.scale <= 16 else 18}")
        subnets[i] = subnet
        w.append(f"  - name: {r}\n    vcn_cidr: {vcn}\n    subnet_cidr: {subnet}\n")
    w.append("management_node:\n  name: pexmgr\n  region: eu-frankfurt-1\n"
             "  shape: { name: VM.Standard3.Flex, ocpus: 4, memory_gb: 32 }\n"
             f"  hostname: pexmgr\n  domain: example.com\n  private_ip: {subnets[home].network_address + 10}\n"
             "  admin_password: { env: PEXIP_ADMIN_PASSWORD }\n")
    w.append("platform:\n  dns_servers: [169.254.169.254]\n"
             "  ntp_servers: [169.254.169.254, 0.pool.ntp.org, 1.pool.ntp.org]\n"
             "  licenses: [{ env: PEXIP_LICENSE_KEY }]\n  locations:\n")
    for i in regions:
        w.append(f"    - {{ name: loc-{REGIONS[i]} }}\n")
    w.append("  vmrs:\n")
    for k in range(rooms):
        w.append(f"    - {{ name: room {k}, pin: {{ env: PIN_{k % 7} }}, aliases: [room{k}@example.com, \"{7000000 + k}\"] }}\n")
    w.append("conferencing_nodes:\n")
    for n in range(nodes):
        i = regions[n % len(regions)]
        r = REGIONS[i]
        ip = subnets[i].network_address + 20 + n // len(regions)
        w.append(f"  - name: conf{n}\n    region: {r}\n    role: transcoding\n    location: loc-{r}\n"
                 "    shape: { name: VM.Optimized3.Flex, ocpus: 4, memory_gb: 8 }\n"
                 f"    hostname: conf{n}\n    domain: example.com\n    private_ip: {ip}\n    public_ip: true\n")
        w.append("    ssh_password: { env: PEXCONF_SSH_PASSWORD }\n")
    with open(a.out, "w") as f:
        f.write("".join(w))


if __name__ == "__main__":
    main()
