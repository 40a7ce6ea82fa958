/** The four files of an IDX image data set, by role. */
export type IdxRole = 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';

export interface IdxFileSpec {
  readonly role: IdxRole;
  /** Name as published (gzipped); the same name without `.gz` is accepted for a plain file. */
  readonly name: string;
  /** SHA-256 of the published gzipped file, checked on download. */
  readonly sha256: string;
}

export interface IdxDatasetSpec {
  readonly name: 'fashion-mnist' | 'mnist';
  readonly title: string;
  readonly rows: number;
  readonly cols: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly files: readonly IdxFileSpec[];
  /** Base URLs tried in order; each file is `<base><name>`. */
  readonly mirrors: readonly string[];
  /** Directories where an operating-system package installs the files. */
  readonly systemDirs: readonly string[];
  /** Debian package that installs the files into `systemDirs`, if there is one. */
  readonly aptPackage: string | undefined;
}

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; Zalando Research, MIT licence). The mirror is the
 * data set's own bucket named in its README. Checksums: SHA-256 of the gzipped files as published,
 * the same in the batchup and Flux.jl loaders (torchvision lists the MD5s). Debian's
 * `dataset-fashion-mnist` recompresses the files (same content, other bytes), which is why the
 * checksums apply to downloads only.
 */
const FASHION_MNIST: IdxDatasetSpec = {
  name: 'fashion-mnist',
  title: 'Fashion-MNIST',
  rows: 28,
  cols: 28,
  numClasses: 10,
  classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  files: [
    { role: 'trainImages', name: 'train-images-idx3-ubyte.gz', sha256: '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84' },
    { role: 'trainLabels', name: 'train-labels-idx1-ubyte.gz', sha256: 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845' },
    { role: 'testImages', name: 't10k-images-idx3-ubyte.gz', sha256: '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073' },
    { role: 'testLabels', name: 't10k-labels-idx1-ubyte.gz', sha256: '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5' },
  ],
  mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
  systemDirs: ['/usr/share/datasets/fashion-mnist'],
  aptPackage: 'dataset-fashion-mnist',
};

/**
 * MNIST (LeCun, Cortes, Burges). LeCun's page no longer serves the files; the mirrors are the ones
 * TensorFlow's and PyTorch's loaders use, both serving the original gzipped files whose SHA-256
 * sums are listed alike by several independent loaders. No Debian package ships them.
 */
const MNIST: IdxDatasetSpec = {
  name: 'mnist',
  title: 'MNIST',
  rows: 28,
  cols: 28,
  numClasses: 10,
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  files: [
    { role: 'trainImages', name: 'train-images-idx3-ubyte.gz', sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
    { role: 'trainLabels', name: 'train-labels-idx1-ubyte.gz', sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
    { role: 'testImages', name: 't10k-images-idx3-ubyte.gz', sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
    { role: 'testLabels', name: 't10k-labels-idx1-ubyte.gz', sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
  ],
  mirrors: ['https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'],
  systemDirs: [],
  aptPackage: undefined,
};

export const IDX_DATASETS: Readonly<Record<IdxDatasetSpec['name'], IdxDatasetSpec>> = {
  'fashion-mnist': FASHION_MNIST,
  mnist: MNIST,
};
