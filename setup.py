"""Ships configs/ inside the package (clipseg/.mim/configs, as mmseg does), so that config names
resolve after a plain, non-editable ``pip install``. Everything else is in setup.cfg."""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConfigs(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, 'clipseg', '.mim', 'configs')
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree('configs', target, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


setup(cmdclass={'build_py': BuildPyWithConfigs})
