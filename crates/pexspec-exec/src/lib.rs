//! The executor: runs a plan's steps concurrently in dependency order, with a journal and a lock
