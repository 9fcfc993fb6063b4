//! `greenapi-settings`: get / set / plan / apply GREEN-API instance settings from the command
//! line, for one instance or a fleet. Run `greenapi-settings --help`.

fn main() -> std::process::ExitCode {
    greenapi_settings_cli::main(std::env::args_os())
}
