//! `labelsync`: the whole service in one local process. `labelsync --help` lists the settings.

fn main() -> std::process::ExitCode {
    labelsync_local::main_entry()
}
