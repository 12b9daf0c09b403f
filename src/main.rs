//! The `vireo` command line: `serve`, `admin`, `check` and `config example`. Parsing and
//! dispatch only; the work is in the library.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vireo::admin::{self, Reply, Request};
use vireo::config::{Config, LogFormat, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "vireo",
    version,
    about = "A federated video platform in one binary"
)]
struct Cli {
    /// Configuration file (default: ./vireo.toml when present).
    #[arg(long, global = true, env = "VIREO_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (database, media, admin socket).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default command).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:9000.
        #[arg(long)]
        listen: Option<String>,
        /// Public URL of the instance, e.g. https://videos.example.org.
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Manage the instance (works whether or not the server is running).
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Validate the configuration and the data directory, then exit.
    Check,
    /// Rebuild the search index from the database (run it with the server stopped).
    Reindex,
    /// Decode AV1 samples from stdin to pictures on stdout: the child process the transcoding
    /// jobs start, so that a decoder crash cannot take the server with it.
    #[command(hide = true)]
    DecodeAv1,
    /// Probe an upload and print what it holds as JSON: the child process uploads are first
    /// read in, so that a parser crash cannot take the server with it.
    #[command(hide = true)]
    InspectUpload { path: PathBuf, limits: String },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. Its password is asked for on a terminal (leave it empty to have one
    /// generated and printed), read with --password-stdin, or generated when there is no
    /// terminal.
    Create {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// admin, moderator or user.
        #[arg(long, default_value = "user")]
        role: String,
        /// Avoid: a password given as an argument is visible to every local user in the process
        /// list and may stay in the shell's history. Use the prompt or --password-stdin.
        #[arg(long)]
        password: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password: asked for on a terminal, else read from the first line of
    /// standard input.
    Passwd {
        username: String,
        /// Avoid: visible to every local user in the process list (see `create`).
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a user's role: admin, moderator or user.
    Role { username: String, role: String },
    /// List users.
    List,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print an annotated configuration file with every default.
    Example,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let listen_flags = match &cli.command {
        Some(Command::Serve { listen, public_url }) => (listen.clone(), public_url.clone()),
        _ => (None, None),
    };
    let overrides = Overrides {
        listen: listen_flags.0,
        public_url: listen_flags.1,
        data_dir: cli.data_dir.clone(),
        log_format: cli.log_format,
    };
    if let Some(Command::InspectUpload { path, limits }) = &cli.command {
        return match vireo::media::inspect::serve(path, limits, &mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("inspect-upload: {e}")),
        };
    }
    if let Some(Command::DecodeAv1) = cli.command {
        return match vireo::media::decode::av1::serve(std::io::stdin(), std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("decode-av1: {e}")),
        };
    }
    if let Some(Command::Config {
        command: ConfigCommand::Example,
    }) = cli.command
    {
        print!("{}", Config::example_toml());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref(), &overrides) {
        Ok(c) => c,
        Err(e) => return fail(&format!("{e}")),
    };
    init_logging(&config);
    match cli.command.unwrap_or(Command::Serve {
        listen: None,
        public_url: None,
    }) {
        Command::Serve { .. } => serve(config),
        Command::Admin {
            command: AdminCommand::User { command },
        } => admin_user(config, command),
        Command::Check => check(config),
        Command::Reindex => reindex(config),
        Command::Config { .. } | Command::DecodeAv1 | Command::InspectUpload { .. } => {
            ExitCode::SUCCESS
        }
    }
}

fn serve(config: Config) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(&format!("starting the runtime: {e}")),
    };
    match runtime.block_on(vireo::server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&format!("{e:#}")),
    }
}

/// Say why a password on the command line is a bad idea (it is still used).
#[allow(clippy::print_stderr)]
fn warn_password_argument() {
    eprintln!(
        "warning: --password is visible to every local user in the process list; prefer the prompt or --password-stdin"
    );
}

/// Ask for a new password twice on the terminal, without echo. `None` when standard input is
/// not a terminal; `Some(None)` when the person left it empty (`allow_empty`).
fn prompt_password(username: &str, allow_empty: bool) -> Result<Option<Option<String>>, String> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    let hint = if allow_empty {
        " (empty to generate one)"
    } else {
        ""
    };
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt).map_err(|e| format!("reading the password: {e}"))
    };
    let first = ask(&format!("New password for {username}{hint}: "))?;
    if first.is_empty() {
        return match allow_empty {
            true => Ok(Some(None)),
            false => Err("no password given".into()),
        };
    }
    if ask("Repeat it: ")? != first {
        return Err("the passwords differ".into());
    }
    Ok(Some(Some(first)))
}

fn read_password_line() -> Result<String, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let p = line.trim_end_matches(['\n', '\r']).to_owned();
    if p.is_empty() {
        Err("no password on standard input".into())
    } else {
        Ok(p)
    }
}

fn admin_user(config: Config, command: UserCommand) -> ExitCode {
    let request = match command {
        UserCommand::Create {
            username,
            email,
            role,
            password,
            password_stdin,
        } => {
            let password = if password_stdin {
                match read_password_line() {
                    Ok(p) => Some(p),
                    Err(e) => return fail(&e),
                }
            } else if password.is_some() {
                warn_password_argument();
                password
            } else {
                match prompt_password(&username, true) {
                    Ok(asked) => asked.flatten(),
                    Err(e) => return fail(&e),
                }
            };
            Request::UserCreate {
                username,
                email,
                password,
                role,
            }
        }
        UserCommand::Passwd { username, password } => {
            let password = match password {
                Some(p) => {
                    warn_password_argument();
                    Ok(p)
                }
                None => match prompt_password(&username, false) {
                    Ok(Some(Some(p))) => Ok(p),
                    Ok(_) => read_password_line(),
                    Err(e) => Err(e),
                },
            };
            let password = match password {
                Ok(p) => p,
                Err(e) => return fail(&e),
            };
            Request::UserPasswd { username, password }
        }
        UserCommand::Role { username, role } => Request::UserRole { username, role },
        UserCommand::List => Request::UserList,
    };
    match admin::client::run(config, request) {
        Reply::Ok { message, .. } => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Reply::Error { message } => fail(&message),
    }
}

/// `vireo reindex`: the progress line goes to stderr (rewritten in place), the count to stdout.
#[allow(clippy::print_stderr)]
fn reindex(config: Config) -> ExitCode {
    let core = match vireo::service::Core::open(config) {
        Ok(core) => core,
        Err(e) => {
            return fail(&format!(
                "opening the data directory: {e} (is the server running? stop it first)"
            ));
        }
    };
    let total = core.catalog.len();
    let started = std::time::Instant::now();
    let progress = |n: usize| {
        let percent = (n * 100).checked_div(total).unwrap_or(100);
        eprint!("\rindexing: {n}/{total} videos ({percent} %)");
    };
    match vireo::service::search::rebuild(&core, progress) {
        Ok(n) => {
            eprintln!();
            println!(
                "search index rebuilt: {n} videos in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("rebuilding the search index: {e}")),
    }
}

fn check(config: Config) -> ExitCode {
    let db = config.database_path();
    println!(
        "configuration: ok (listen {}, public URL {})",
        config.server.listen,
        config.public_url()
    );
    if !db.exists() {
        println!(
            "data directory {}: no database yet (created by the first `vireo serve`)",
            config.storage.data_dir.display()
        );
        return ExitCode::SUCCESS;
    }
    match vireo::service::Core::open(config) {
        Ok(core) => {
            let users = core
                .store
                .read()
                .ok()
                .and_then(|tx| vireo::service::users::count(&tx).ok());
            println!(
                "store {}: ok ({} users, {} videos)",
                db.display(),
                users.unwrap_or(0),
                core.catalog.len()
            );
            ExitCode::SUCCESS
        }
        Err(vireo::service::ServiceError::Store(vireo::store::StoreError::InUse { .. })) => {
            println!("store {}: in use by the running server (ok)", db.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&format!("store {}: {e}", db.display())),
    }
}

fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&config.log.level));
    // Colours only for a person at a terminal; files and journald get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[allow(clippy::print_stderr)]
fn fail(message: &str) -> ExitCode {
    eprintln!("vireo: {message}");
    ExitCode::FAILURE
}
