"""segssl: self-supervised pretraining and consistency training as plugins for mmseg and detectron2."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def version() -> str:
    """The one version: ``__version__`` in plugins/segssl/__init__.py (CHANGELOG.md and the README
    state the same; tests/test_version.py checks)."""
    text = open(os.path.join(HERE, 'plugins', 'segssl', '__init__.py')).read()
    return re.search(r"^__version__ = '([^']+)'", text, re.M).group(1)


setup(
    name='segssl',
    version=version(),
    description='Self-supervised and semi-supervised segmentation plugins for mmsegmentation and detectron2',
    long_description=open('README.md').read() if __import__('os').path.exists('README.md') else '',
    long_description_content_type='text/markdown',
    package_dir={'': 'plugins'},
    packages=find_packages('plugins'),
    python_requires='>=3.8',
    install_requires=['torch>=1.13', 'numpy', 'Pillow'],
    extras_require={
        # exact, tested pins: requirements/stack.txt (tools/setup_env.sh installs them)
        # mmseg 1.2.2 imports ftfy and regex at `import mmseg.models`
        # mmengine 0.10 resolves config scopes (segssl::) with pkg_resources, gone after setuptools 80
        'mmseg': [
            'mmengine>=0.10,<1', 'mmcv>=2.0.0,<2.2.0', 'mmsegmentation>=1.2,<1.3', 'ftfy', 'regex', 'setuptools<81'
        ],
        # the current stack (requirements/stack-current.txt): mmcv-lite, no compiled ops
        'mmseg-lite': [
            'mmengine>=0.10,<1', 'mmcv-lite>=2.0.0,<2.2.0', 'mmsegmentation>=1.2,<1.3', 'ftfy', 'regex', 'setuptools<81'
        ],
        # what segssl.detectron2 imports besides detectron2 itself (tools/check_install.sh checks)
        'detectron2': ['pycocotools>=2.0', 'fvcore', 'iopath', 'omegaconf', 'yacs', 'PyYAML', 'opencv-python'],
        'test': ['pytest'],
    },
    entry_points={'console_scripts': ['segssl-convert=segssl.convert.cli:main']},
    # the configs, for `_base_ = ['segssl::...']` (segssl/mmseg/config_scope.py); .mim/configs
    # is a link to configs/, copied as files into a wheel
    package_data={
        'segssl.mmseg': [
            '.mim/model-index.yml', '.mim/configs/*/*.py', '.mim/configs/*/*/*.py', '.mim/configs/*/*/*.yaml',
            '.mim/configs/*/*.yaml'
        ]
    },
    include_package_data=True,
)
