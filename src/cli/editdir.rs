//! The private directory `edit` puts the plaintext in, and its cleanup.
//!
//! The directory is made with mode 0700 (the file in it with 0600) under the
//! temporary directory, and removed, with the editor's own files (swap and
//! backup files), when `edit` ends, when sopx panics (the guard is dropped
//! while unwinding, and a panic hook removes it too), and when sopx receives
//! SIGINT, SIGTERM or SIGHUP: the editor is then killed, the directory
//! removed, and sopx ends as the signal would have ended it. (SIGKILL cannot
//! be caught; nothing can clean up after it.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Mutex, Once};
use std::time::Duration;

/// What a signal must clean up: the directory, and the running editor.
#[derive(Default)]
struct State {
    dir: Option<PathBuf>,
    editor: Option<Child>,
}

static STATE: Mutex<State> = Mutex::new(State {
    dir: None,
    editor: None,
});

fn state() -> std::sync::MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills the editor and removes the directory, if any.
fn clean_up(st: &mut State) {
    if let Some(mut child) = st.editor.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Some(dir) = st.dir.take() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Installs the signal thread and the panic hook, once per process.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(mut st) = STATE.try_lock() {
                clean_up(&mut st);
            }
            previous(info);
        }));
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            {
                std::thread::spawn(move || {
                    if let Some(sig) = signals.forever().next() {
                        clean_up(&mut state());
                        // End as the signal would have ended sopx.
                        let _ = signal_hook::low_level::emulate_default_handler(sig);
                        std::process::exit(128 + sig);
                    }
                });
            }
        }
    });
}

/// The private directory; removed when dropped.
pub struct EditDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl EditDir {
    pub fn new() -> std::io::Result<EditDir> {
        EditDir::with_prefix("sopx-edit-")
    }

    /// The directory, named `PREFIX…` under the temporary directory.
    pub fn with_prefix(prefix: &str) -> std::io::Result<EditDir> {
        install();
        let mut b = tempfile::Builder::new();
        b.prefix(prefix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            b.permissions(std::fs::Permissions::from_mode(0o700));
        }
        let dir = b.tempdir()?;
        // An absolute path: the editor gets it as an argument, which then
        // cannot be taken for an option.
        let path = std::path::absolute(dir.path())?;
        state().dir = Some(path.clone());
        Ok(EditDir {
            dir: Some(dir),
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the editor on `file`, to be killed (and the directory removed)
    /// should a signal end sopx meanwhile.
    pub fn run_editor(&self, cmd: &[String], file: &Path) -> std::io::Result<ExitStatus> {
        let mut c = Command::new(&cmd[0]);
        c.args(&cmd[1..]).arg(file);
        self.run(c)
    }

    /// Runs a command, to be killed (and the directory removed) should a
    /// signal end sopx meanwhile.
    pub fn run(&self, mut cmd: Command) -> std::io::Result<ExitStatus> {
        let child = cmd.spawn()?;
        state().editor = Some(child);
        loop {
            {
                let mut st = state();
                match st.editor.as_mut() {
                    Some(c) => {
                        if let Some(status) = c.try_wait()? {
                            st.editor = None;
                            return Ok(status);
                        }
                    }
                    None => return Err(std::io::Error::other("the editor was stopped")),
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for EditDir {
    fn drop(&mut self) {
        let mut st = state();
        st.dir = None;
        if let Some(mut child) = st.editor.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        drop(self.dir.take());
    }
}
