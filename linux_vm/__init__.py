"""Linux machines: image builder, QEMU launcher, SSH/serial drivers, seeding and readers."""
