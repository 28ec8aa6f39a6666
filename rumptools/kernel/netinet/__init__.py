"""IPv4: addresses, ARP, IP input/output/forwarding, reassembly, ICMP, UDP, raw sockets (NetBSD's sys/netinet)."""
