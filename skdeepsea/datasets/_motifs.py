"""Built-in transcription factor motifs for the synthetic chromatin dataset.

Position count matrices of the JASPAR CORE vertebrates collection, copied
verbatim from the TRANSFAC-format release file
``JASPAR/jaspar_core_vertebrates_2015_03.tf`` of the public repository
``rsa-tools/motif_databases`` (JASPAR 2014/2015 CORE, vertebrates; Mathelier
et al., Nucleic Acids Res. 2014 and 2016). Each row is one position of the
motif and holds the counts of (A, C, G, T) there. The rows of a matrix sum to
its number of sites, give or take 1% for the two ChIP-seq matrices (CTCF,
REST), where JASPAR's own rows differ by a few sites. The name in a comment is
the matrix name JASPAR gives.

They were chosen for high information content (long or sharp sites), so that
a random 1000 bp background seldom holds a strong site by chance and a CNN
learns them quickly.
"""

import numpy as np

from .._constraints import parameter_constraints

JASPAR_MOTIFS = {
    # MA0139.1 "CTCF": 19 positions, 908 to 913 sites (ChIP-seq).
    "CTCF": ("MA0139.1", (
        (87, 291, 76, 459),
        (167, 145, 414, 187),
        (281, 49, 449, 134),
        (56, 800, 21, 36),
        (8, 903, 0, 2),
        (744, 13, 65, 91),
        (40, 528, 334, 11),
        (107, 433, 48, 324),
        (851, 11, 32, 18),
        (5, 0, 903, 3),
        (333, 3, 566, 9),
        (54, 12, 504, 341),
        (12, 0, 890, 8),
        (56, 8, 775, 71),
        (104, 733, 5, 67),
        (372, 13, 507, 17),
        (82, 482, 307, 37),
        (117, 322, 73, 396),
        (402, 181, 266, 59),
    )),
    # MA0035.3 "Gata1": 11 positions, 17955 sites.
    "GATA1": ("MA0035.3", (
        (2035, 4321, 2530, 9069),
        (506, 6406, 2792, 8251),
        (0, 14869, 437, 2649),
        (0, 697, 0, 17258),
        (0, 0, 0, 17955),
        (17955, 0, 0, 0),
        (0, 0, 0, 17955),
        (0, 17955, 0, 0),
        (2166, 0, 0, 15789),
        (2502, 6166, 6687, 2600),
        (1886, 5072, 1598, 9399),
    )),
    # MA0476.1 "FOS" (the AP-1 site TGA[CG]TCA): 11 positions, 29396 sites.
    "FOS": ("MA0476.1", (
        (7879, 712, 9686, 11119),
        (7475, 10177, 10841, 903),
        (0, 0, 0, 29396),
        (0, 0, 27108, 2288),
        (29396, 0, 0, 0),
        (998, 14079, 11206, 3113),
        (0, 0, 0, 29396),
        (0, 29396, 0, 0),
        (29396, 0, 0, 0),
        (258, 5823, 1538, 21777),
        (4006, 8236, 7897, 9257),
    )),
    # MA0138.2 "REST": 21 positions, 1590 to 1606 sites (ChIP-seq).
    "REST": ("MA0138.2", (
        (211, 174, 366, 840),
        (58, 269, 146, 1124),
        (76, 1366, 50, 105),
        (1452, 30, 94, 26),
        (34, 44, 1516, 10),
        (122, 978, 323, 182),
        (1575, 7, 12, 12),
        (3, 1586, 12, 5),
        (35, 1481, 20, 70),
        (913, 201, 162, 329),
        (219, 375, 124, 886),
        (39, 7, 1551, 7),
        (20, 5, 1577, 2),
        (1406, 112, 34, 51),
        (13, 1280, 233, 74),
        (1574, 9, 7, 10),
        (42, 13, 1530, 9),
        (205, 1007, 183, 198),
        (366, 31, 688, 507),
        (213, 933, 319, 125),
        (179, 1114, 37, 260),
    )),
    # MA0506.1 "NRF1": 11 positions, 4624 sites.
    "NRF1": ("MA0506.1", (
        (602, 375, 3647, 0),
        (623, 4001, 0, 0),
        (196, 189, 4239, 0),
        (0, 4016, 468, 140),
        (1514, 1862, 935, 313),
        (0, 403, 528, 3693),
        (0, 0, 4624, 0),
        (0, 4338, 0, 286),
        (0, 349, 4275, 0),
        (74, 4550, 0, 0),
        (2245, 804, 1575, 0),
    )),
}


@parameter_constraints({})  # no parameters
def load_motifs():
    """Return the built-in JASPAR motifs as position frequency matrices.

    Returns
    -------
    motifs : dict of str to (str, ndarray of shape (length, 4))
        Maps each motif name to its JASPAR matrix ID and its position
        frequency matrix: row ``i`` holds the probabilities of the bases at
        position ``i``, in the column order **A, C, G, T** (JASPAR's order,
        whatever alphabet the one-hot encoding uses). Rows sum to 1.

    Examples
    --------
    >>> from skdeepsea.datasets import load_motifs
    >>> motifs = load_motifs()
    >>> list(motifs)
    ['CTCF', 'GATA1', 'FOS', 'REST', 'NRF1']
    >>> jaspar_id, pfm = motifs["CTCF"]
    >>> jaspar_id, pfm.shape
    ('MA0139.1', (19, 4))
    >>> bool(np.allclose(pfm.sum(axis=1), 1.0))
    True
    """
    motifs = {}
    for name, (jaspar_id, counts) in JASPAR_MOTIFS.items():
        counts = np.asarray(counts, dtype=float)
        motifs[name] = (jaspar_id, counts / counts.sum(axis=1, keepdims=True))
    return motifs
