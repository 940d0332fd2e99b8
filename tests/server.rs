//! The `labelsync` command, built inside the test package so tests can run it as a process.

fn main() -> std::process::ExitCode {
    labelsync_local::main_entry()
}
