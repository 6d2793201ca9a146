//! Views and stacks described for another process: the readers'
//! descriptions ([`ReaderSpec`]) and the focus, serde-serialisable. A
//! view rebuilt from its description reads the same pixels; with the
//! header included, rebuilding makes no request.
//!
//! May use: `reader`, `options`, `error`.

use futures::future::try_join_all;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::options::Options;
use crate::reader::{CogReader, ReaderSpec};

use super::focus::Focus;
use super::single::CogView;
use super::stack::{CogStack, StackOptions};

/// A [`CogView`] described: its reader, level, window, bands and fill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ViewSpec {
    /// The reader.
    pub reader: ReaderSpec,
    pub(crate) focus: Focus,
    pub(crate) fill: Option<f64>,
}

/// A [`CogStack`] described: its files' readers, how they stack, and the
/// focus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StackSpec {
    /// The files' readers, in stack order.
    pub readers: Vec<ReaderSpec>,
    pub(crate) stacked: bool,
    pub(crate) allow_different_shapes: bool,
    pub(crate) times: Vec<usize>,
    pub(crate) focus: Focus,
    pub(crate) fill: Option<f64>,
}

impl CogView {
    /// Describes the view (see [`CogReader::spec`] for `with_header`).
    pub fn spec(&self, with_header: bool) -> Result<ViewSpec> {
        Ok(ViewSpec {
            reader: self.reader.spec(with_header)?,
            focus: self.focus.clone(),
            fill: self.fill,
        })
    }

    /// Rebuilds a described view, opening its reader with the described
    /// options.
    pub async fn from_spec(spec: &ViewSpec) -> Result<CogView> {
        let reader = CogReader::from_spec(&spec.reader).await?;
        Ok(CogView {
            reader,
            focus: spec.focus.clone(),
            fill: spec.fill,
        })
    }
}

impl CogStack {
    /// Describes the stack (see [`CogReader::spec`] for `with_header`).
    pub fn spec(&self, with_header: bool) -> Result<StackSpec> {
        Ok(StackSpec {
            readers: self
                .members
                .iter()
                .map(|m| m.reader.spec(with_header))
                .collect::<Result<_>>()?,
            stacked: self.stacked,
            allow_different_shapes: self.allow_different_shapes,
            times: self.times.clone(),
            focus: self.focus.clone(),
            fill: self.fill,
        })
    }

    /// Rebuilds a described stack: its files opened concurrently with the
    /// first file's described options, through one budget and one pair of
    /// caches, as [`CogStack::open`] opens them.
    pub async fn from_spec(spec: &StackSpec) -> Result<CogStack> {
        let settings = spec.readers.first().map(|r| r.settings.clone()).unwrap_or_default();
        let options = Options::from_vars(settings)?.shared();
        let readers = try_join_all(
            spec.readers
                .iter()
                .map(|r| CogReader::from_spec_with(r, options.clone())),
        )
        .await?;
        let how = StackOptions::new()
            .stack(spec.stacked)
            .allow_different_shapes(spec.allow_different_shapes);
        let stack = CogStack::from_readers(readers, &how)?;
        Ok(CogStack {
            times: spec.times.clone(),
            focus: spec.focus.clone(),
            fill: spec.fill,
            ..stack
        })
    }
}
