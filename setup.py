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
        'mmseg': ['mmengine>=0.10,<1', 'mmcv>=2.0.0,<2.2.0', 'mmsegmentation>=1.2,<1.3', 'ftfy',
                  'regex'],
        # the current stack (requirements/stack-current.txt): mmcv-lite, no compiled ops
        'mmseg-lite': ['mmengine>=0.10,<1', 'mmcv-lite>=2.0.0,<2.2.0', 'mmsegmentation>=1.2,<1.3',
                       'ftfy', 'regex'],
        'detectron2': ['pycocotools>=2.0', 'fvcore', 'iopath', 'omegaconf', 'yacs'],
        'test': ['pytest'],
    },
    entry_points={'console_scripts': ['segssl-convert=segssl.convert.cli:main']},
    include_package_data=True,
)
