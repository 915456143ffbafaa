#!/bin/sh
touch @T@/PWNED
