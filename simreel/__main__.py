import sys

from simreel.cli import main

sys.exit(main())
