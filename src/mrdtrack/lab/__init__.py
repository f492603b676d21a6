"""Lab instrument files to MRD: FCS + gating strategies, qPCR runs, NGS clonotype tables.

The adapters of the lab: they read the files the instruments export, validate them
(every rejection names the file and the row, byte offset or keyword), and hand the
counts, Ct values and cell equivalents to the MRD engine (:mod:`mrdtrack.mrd`), which
alone computes MRD. Results carry the file's SHA-256 and the strategy or run they came
from.

=================  ============================================================
module             concept
=================  ============================================================
``fcs``            FCS 2.0/3.0/3.1 reader, spillover matrices
``transforms``     logicle, arcsinh, linear and log scales (GatingML 2.0)
``gating``         gates, hierarchies, event membership masks
``gatingml``       GatingML 2.0 and YAML strategy documents
``flow``           FCS file + strategy → gate counts → flow MRD
``qpcr_files``     RDML, ABI SDS 2.x and QuantStudio exports → qPCR MRD
``ngs_files``      clonotype tables → tracked clonotypes → NGS MRD
``batch``          many files, locally or on a Dask cluster
=================  ============================================================
"""

from mrdtrack.lab.batch import BatchItem, BatchOptions, BatchReport, FileKind, run_batch
from mrdtrack.lab.fcs import FcsFile, SpilloverMatrix, read_fcs
from mrdtrack.lab.flow import FcsAnalysis, analyze_fcs
from mrdtrack.lab.gating import GatingResult, GatingStrategy, apply_strategy
from mrdtrack.lab.gatingml import load_strategy, parse_gatingml, parse_yaml_strategy
from mrdtrack.lab.ngs_files import Clonotype, NgsAnalysis, analyze_clonotypes, read_clonotype_table
from mrdtrack.lab.qpcr_files import QpcrAnalysis, QpcrRun, analyze_qpcr_run, read_qpcr_run
from mrdtrack.lab.transforms import AsinhTransform, LinearTransform, LogicleTransform, LogTransform

__all__ = [
    "AsinhTransform",
    "BatchItem",
    "BatchOptions",
    "BatchReport",
    "Clonotype",
    "FcsAnalysis",
    "FcsFile",
    "FileKind",
    "GatingResult",
    "GatingStrategy",
    "LinearTransform",
    "LogTransform",
    "LogicleTransform",
    "NgsAnalysis",
    "QpcrAnalysis",
    "QpcrRun",
    "SpilloverMatrix",
    "analyze_clonotypes",
    "analyze_fcs",
    "analyze_qpcr_run",
    "apply_strategy",
    "load_strategy",
    "parse_gatingml",
    "parse_yaml_strategy",
    "read_clonotype_table",
    "read_fcs",
    "read_qpcr_run",
    "run_batch",
]
