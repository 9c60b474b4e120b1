//! How a verb ends, as cargo's `CliError { exit_code }` does it: `Ok(())` is exit 0; an
//! [`Error`] carries its exit code (1: the verb found something, 2: it could not run) and what
//! to say on stderr, once, as `error: <message>`. Every verb returns [`Result`]; `main` turns it
//! into the process's exit code with [`exit`].

use std::fmt;
use std::process::ExitCode;

/// A verb's exit code other than 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: what the verb checks was found wanting (drift, a crate that does not compile).
    Finding = 1,
    /// 2: the verb could not run (the message names the file and the place).
    CouldNotRun = 2,
}

/// How a verb failed: its exit code and, unless the verb has said it already, what to say.
#[derive(Debug)]
pub struct Error {
    exit: Exit,
    message: Option<String>,
}

/// What every verb returns.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

impl Error {
    /// Exit 2, saying `message`.
    pub fn could_not_run(message: impl fmt::Display) -> Self {
        Error {
            exit: Exit::CouldNotRun,
            message: Some(message.to_string()),
        }
    }

    /// Exit 1, saying `message`: what the verb checks failed (a package that does not verify, a
    /// mock answer that does not decode).
    pub fn finding(message: impl fmt::Display) -> Self {
        Error {
            exit: Exit::Finding,
            message: Some(message.to_string()),
        }
    }

    /// Exit with `exit`, saying nothing more: the verb has reported what it found.
    pub fn reported(exit: Exit) -> Self {
        Error {
            exit,
            message: None,
        }
    }

    /// The outcome of a verb that computes its exit code (0, 1 or 2) itself.
    pub fn from_code(code: u8) -> Result {
        match code {
            0 => Ok(()),
            1 => Err(Error::reported(Exit::Finding)),
            _ => Err(Error::reported(Exit::CouldNotRun)),
        }
    }

    /// The process's exit code.
    pub fn exit_code(&self) -> u8 {
        self.exit as u8
    }
}

/// The codegen's errors (a file that cannot be read, a document that is not valid) mean the
/// verb could not run.
impl From<agentstatus_codegen::Error> for Error {
    fn from(e: agentstatus_codegen::Error) -> Self {
        Error::could_not_run(e)
    }
}

/// The helpers that report failure as text (running cargo, the compile gate, the corpus, the
/// scaffold): the verb could not run. A verb for which such a failure is a finding says so
/// with [`Error::finding`].
impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::could_not_run(message)
    }
}

/// Say `message` on stderr as every verb says a failure.
pub fn print(message: impl fmt::Display) {
    eprintln!("error: {message}");
}

/// The exit code of a verb's outcome, after saying its message.
pub fn exit(outcome: Result) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(message) = &e.message {
                print(message);
            }
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Error::finding("x").exit_code(), 1);
        assert_eq!(Error::could_not_run("x").exit_code(), 2);
        assert_eq!(Error::from("x".to_string()).exit_code(), 2);
        assert!(Error::from_code(0).is_ok());
        assert_eq!(Error::from_code(1).unwrap_err().exit_code(), 1);
        assert_eq!(Error::from_code(2).unwrap_err().exit_code(), 2);
        assert!(Error::reported(Exit::Finding).message.is_none());
    }
}
