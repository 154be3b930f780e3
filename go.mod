module github.com/cairnbackup/cairn

go 1.26
