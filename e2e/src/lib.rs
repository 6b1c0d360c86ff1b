//! Shared harness for the end-to-end tests, fault drills and benchmarks.
