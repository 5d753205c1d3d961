//! Linux enforcement: installs compiled filters and observes the kernel (see issue 4).
